"""`python -m analysis RUN.h5 [RUN2.h5 ...] --plots DIR`: p(kappa), eta, figures and CSV tables.

Per ensemble with kappa values: a table row (kind, d, number of values, eta by least squares with
its window, eta by maximum likelihood with its kmax, the paper's value where known), DIR/eta.csv,
DIR/pkappa_<ensemble>.csv, and DIR/fig3b_lattice.png/.pdf when lattice ensembles exist.
Exit status 2 if a file is missing or not an hpcglass run file.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys

import numpy as np

from .distributions import log_binned_pdf, pdf_from_histogram
from .fits import default_window, fit_eta, fit_eta_mle, window_rule
from .io import RunFileError, open_run
from .plots import PAPER_LATTICE_ETA, fig3b_lattice

COLUMNS = ["file", "ensemble", "kind", "d", "n_values", "eta_lsq", "err_lsq", "kmin", "kmax", "bins",
           "A_lsq", "eta_mle", "err_mle", "n_tail", "A_mle", "eta_paper", "window_rule"]


def _fmt(fit, fmt):
    return fmt(fit) if fit is not None else "n/a"


def _analyse(ens, frac, per_decade, min_counts):
    """(n, pdf, lsq, mle, note) for one ensemble; lsq/mle None when they cannot be fitted."""
    if ens.is_ragged("kappa"):
        kappa = ens.values("kappa")
        kappa = kappa[np.isfinite(kappa) & (kappa > 0)]
        if kappa.size == 0:
            return 0, None, None, None, "no kappa values"
        pdf = log_binned_pdf(kappa, per_decade)
        try:
            lsq, mle = fit_eta(kappa, frac, per_decade, min_counts)
            return kappa.size, pdf, lsq, mle, ""
        except ValueError as exc:
            try:
                mle = fit_eta_mle(kappa, default_window(kappa, frac, per_decade, min_counts)[1],
                                  window=window_rule(frac, per_decade, min_counts))
            except ValueError:
                mle = None
            return kappa.size, pdf, None, mle, str(exc)
    if ens.has("hist_counts") and ens.has("hist_edges"):
        counts, below, edges = ens.histogram()
        pdf = pdf_from_histogram(counts, below, edges)
        return pdf.total, pdf, None, None, "histogram only: no fit"
    return 0, None, None, None, "no kappa"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 2 bad input file)."""
    ap = argparse.ArgumentParser(prog="python -m analysis", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="hpcglass run files")
    ap.add_argument("--plots", required=True, help="output folder for figures and CSV tables")
    ap.add_argument("--kmax-frac", type=float, default=0.01,
                    help="fit window: kappa below this quantile of the data (default 0.01)")
    ap.add_argument("--per-decade", type=int, default=10, help="log bins per decade (default 10)")
    ap.add_argument("--min-counts", type=int, default=10,
                    help="least-squares window: every bin needs at least this many counts (default 10)")
    args = ap.parse_args(argv)
    if not 0 < args.kmax_frac <= 1:
        ap.error("--kmax-frac must be in (0, 1]")
    try:
        ensembles = [e for path in args.runs for e in open_run(path)]
    except RunFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.makedirs(args.plots, exist_ok=True)
    names = [e.name for e in ensembles]
    rule = window_rule(args.kmax_frac, args.per_decade, args.min_counts)
    print(f"window: {rule}")
    print(f"{'ensemble':24s} {'kind':8s} {'d':>2s} {'values':>10s}  {'eta LSQ':>15s} {'[kmin, kmax]':>19s} "
          f"{'bins':>4s}  {'eta MLE':>15s} {'kmax':>8s} {'n_tail':>7s} {'paper':>6s}")
    rows, lattice = [], []
    for ens in ensembles:
        n, pdf, lsq, mle, note = _analyse(ens, args.kmax_frac, args.per_decade, args.min_counts)
        d = ens.params.get("d")
        tag = ens.name if names.count(ens.name) == 1 else \
            f"{os.path.splitext(os.path.basename(ens.path))[0]}_{ens.name}"
        paper = PAPER_LATTICE_ETA.get(d) if ens.kind == "lattice" else None
        print(f"{tag:24s} {ens.kind:8s} {d!s:>2s} {n:>10d}  "
              f"{_fmt(lsq, lambda f: f'{f.eta:7.3f} ± {f.err:5.3f}'):>15s} "
              f"{_fmt(lsq, lambda f: f'[{f.kmin:8.2e},{f.kmax:8.2e}]'):>19s} {_fmt(lsq, lambda f: f.n):>4} "
              f"{_fmt(mle, lambda f: f'{f.eta:7.3f} ± {f.err:5.3f}'):>15s} "
              f"{_fmt(mle, lambda f: f'{f.kmax:8.2e}'):>8s} {_fmt(mle, lambda f: f.n):>7} "
              f"{'' if paper is None else f'{paper:6.2f}'}" + (f"  ({note})" if note else ""))
        if pdf is None:
            continue
        nan = math.nan
        rows.append([os.path.basename(ens.path), ens.name, ens.kind, "" if d is None else d, n,
                     lsq.eta if lsq else nan, lsq.err if lsq else nan, lsq.kmin if lsq else nan,
                     (lsq or mle).kmax if (lsq or mle) else nan, lsq.n if lsq else 0, lsq.A if lsq else nan,
                     mle.eta if mle else nan, mle.err if mle else nan, mle.n if mle else 0,
                     mle.A if mle else nan, "" if paper is None else paper, rule])
        with open(os.path.join(args.plots, f"pkappa_{tag}.csv"), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["kappa", "pdf", "counts"])
            w.writerows(zip(pdf.centres, pdf.pdf, pdf.counts))
        if ens.kind == "lattice":
            lattice.append((d, f"d={d}" if names.count(ens.name) == 1 else tag, pdf, lsq, mle))
    with open(os.path.join(args.plots, "eta.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(rows)
    if lattice:
        lattice.sort(key=lambda t: (t[0] if t[0] is not None else 0, t[1]))
        for path in fig3b_lattice(lattice, os.path.join(args.plots, "fig3b_lattice")):
            print(f"wrote {path}")
    print(f"wrote {os.path.join(args.plots, 'eta.csv')}")
    return 0


if __name__ == "__main__":
    np.seterr(divide="ignore")
    sys.exit(main())
