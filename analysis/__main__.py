"""`python -m analysis RUN.h5 [RUN2.h5 ...] --plots DIR`: p(kappa), eta, figures and CSV tables."""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np

from .distributions import log_binned_pdf
from .fits import fit_eta
from .io import RunFileError, open_run
from .plots import PAPER_LATTICE_ETA, fig3b_lattice


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    ap.add_argument("runs", nargs="+", help="hpcglass run files")
    ap.add_argument("--plots", required=True, help="output folder for figures and CSV tables")
    ap.add_argument("--kmax-frac", type=float, default=0.01,
                    help="fit window: kappa below this quantile of the data (default 0.01)")
    ap.add_argument("--per-decade", type=int, default=10, help="log bins per decade")
    args = ap.parse_args(argv)
    try:
        ensembles = [e for path in args.runs for e in open_run(path)]
    except RunFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.makedirs(args.plots, exist_ok=True)
    rows, lattice = [], {}
    print(f"{'ensemble':24s} {'kind':8s} {'d':>2s} {'values':>10s}  {'eta LSQ':>15s} {'window':>19s}  "
          f"{'eta MLE':>15s} {'paper':>6s}")
    for ens in ensembles:
        if not ens.has("kappa"):
            continue
        kappa = ens.values("kappa")
        if kappa.size < 100:
            print(f"{ens.name:24s} {ens.kind:8s} too few kappa values ({kappa.size}) to fit")
            continue
        d = ens.params.get("d")
        lsq, mle = fit_eta(kappa, args.kmax_frac, args.per_decade)
        pdf = log_binned_pdf(kappa, args.per_decade)
        paper = PAPER_LATTICE_ETA.get(d) if ens.kind == "lattice" else None
        print(f"{ens.name:24s} {ens.kind:8s} {d!s:>2s} {kappa.size:>10d}  {lsq.eta:7.3f} ± {lsq.err:5.3f} "
              f"[{lsq.kmin:8.2e},{lsq.kmax:8.2e}]  {mle.eta:7.3f} ± {mle.err:5.3f} "
              f"{'' if paper is None else f'{paper:6.2f}'}")
        rows.append([os.path.basename(ens.path), ens.name, ens.kind, d, kappa.size, lsq.eta, lsq.err, lsq.kmin,
                     lsq.kmax, lsq.n, lsq.A, mle.eta, mle.err, mle.n, mle.A, "" if paper is None else paper])
        with open(os.path.join(args.plots, f"pkappa_{ens.name}.csv"), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["kappa", "pdf", "counts"])
            w.writerows(zip(pdf.centres, pdf.pdf, pdf.counts))
        if ens.kind == "lattice":
            lattice[d] = (pdf, lsq, mle)
    with open(os.path.join(args.plots, "eta.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "ensemble", "kind", "d", "n_values", "eta_lsq", "err_lsq", "kmin", "kmax", "bins",
                    "A_lsq", "eta_mle", "err_mle", "n_tail", "A_mle", "eta_paper"])
        w.writerows(rows)
    if lattice:
        for path in fig3b_lattice(lattice, os.path.join(args.plots, "fig3b_lattice")):
            print(f"wrote {path}")
    print(f"wrote {os.path.join(args.plots, 'eta.csv')}")
    return 0


if __name__ == "__main__":
    np.seterr(divide="ignore")
    sys.exit(main())
