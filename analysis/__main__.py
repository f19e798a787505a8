"""`python -m analysis RUN.h5 [RUN2.h5 ...] --plots DIR`: p(kappa), eta, figures and CSV tables.

Per ensemble with kappa values: a table row (kind, d, number of values, eta by least squares with
its window, eta by maximum likelihood with its kmax, the paper's value where known), DIR/eta.csv,
DIR/pkappa_<ensemble>.csv, and DIR/fig3b_lattice.png/.pdf when lattice ensembles exist.
Glass ensembles (analysis/glass.py), grouped by the input file they were run from:
  glass.csv                         kappa_g (bootstrap over samples), G, U/N, eq. check, eta,
                                    and A at the lattice eta of d from the fraction with kappa < 1
  equilibration.csv                 U/N per block of the sampling at T_p (eq_energy_series), mean
                                    and standard error over samples
  pkappa_<input>.png/.pdf           p(kappa) of the group with MLE fits (Figs. 3a, 4, 5, 8)
  fig2_scatter_<input>.png/.pdf     kappa vs f where pairs are `all` or `random` (Fig. 2),
                                    scatter_<ensemble>.csv and kappa_by_f_<ensemble>.csv
  fig6_kappa_g_G.png/.pdf           kappa_g/kappa_inf and G/G_inf vs T_p per (model, d) over all
                                    files, force-filtered ensembles only (Fig. 6; the largest N
                                    where a T_p has several), growth.csv
  fig8_finite_size_<model><d>d      eta and kappa_g vs N at fixed T_p, protocol and pairs (Fig. 8),
                                    finite_size_<model><d>d.csv
  modes_<input>.png/.pdf            D(omega) and participation of the lowest modes, modes_<ensemble>.csv
  fig1_<ensemble>.png/.pdf          2D ensembles with stored fields: the lowest mode and the first
                                    dipole response of the first sample (Fig. 1), fields_<ensemble>.csv
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
from .fits import default_window, fit_eta, fit_eta_mle, prefactor_at, window_rule
from . import glass as gl
from .io import RunFileError, open_run, provenance
from .plots import (PAPER_LATTICE_ETA, fig1_fields, fig2_scatter, fig3b_lattice, fig6_growth, fig8_finite_size,
                    modes_figure, pkappa_family)

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
    ap.add_argument("--glass-kmax-frac", type=float, default=0.1,
                    help="the same for glass ensembles, which hold far fewer values (default 0.1)")
    ap.add_argument("--per-decade", type=int, default=10, help="log bins per decade (default 10)")
    ap.add_argument("--min-counts", type=int, default=10,
                    help="least-squares window: every bin needs at least this many counts (default 10)")
    args = ap.parse_args(argv)
    if not (0 < args.kmax_frac <= 1 and 0 < args.glass_kmax_frac <= 1):
        ap.error("--kmax-frac and --glass-kmax-frac must be in (0, 1]")
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
    rows, lattice, glasses = [], [], []
    for ens in ensembles:
        frac = args.glass_kmax_frac if ens.kind == "glass" else args.kmax_frac
        n, pdf, lsq, mle, note = _analyse(ens, frac, args.per_decade, args.min_counts)
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
        if ens.kind == "glass":
            glasses.append((tag, ens, pdf, mle))
    with open(os.path.join(args.plots, "eta.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(rows)
    if lattice:
        lattice.sort(key=lambda t: (t[0] if t[0] is not None else 0, t[1]))
        for path in fig3b_lattice(lattice, os.path.join(args.plots, "fig3b_lattice")):
            print(f"wrote {path}")
    print(f"wrote {os.path.join(args.plots, 'eta.csv')}")
    if glasses:
        _glass_outputs(glasses, args.plots)
    return 0


def _input_stem(path: str) -> str:
    """The stem of the input a run file came from (job-array files of one input share it)."""
    src = provenance(path).get("input_path") or path
    return os.path.splitext(os.path.basename(src))[0]


def _write_csv(path: str, header: list[str], rows) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    print(f"wrote {path}")


def _report(paths: list[str]) -> None:
    for p in paths:
        print(f"wrote {p}")


def _fig1(tag: str, ens, out: str) -> None:
    """Fig. 1 from the first finished sample of a 2D ensemble with stored mode/response fields."""
    first = int(np.flatnonzero(ens.done())[0])
    x = ens.array("position")[first]
    L = float(ens.array("box")[first])
    mode = ens.array("mode_vector")[first, 0] if ens.has("mode_vector") else None
    resp = pair = None
    if ens.has("response_field") and ens.array("response_pair")[first, 0, 0] >= 0:
        resp = ens.array("response_field")[first, 0]
        pair = tuple(ens.array("response_pair")[first, 0])
    cols = [x[:, 0], x[:, 1]]
    names = ["x", "y"]
    for name, u in (("mode", mode), ("response", resp)):
        if u is not None:
            cols += [u[:, 0], u[:, 1]]
            names += [f"{name}_x", f"{name}_y"]
    _write_csv(os.path.join(out, f"fields_{tag}.csv"), names, zip(*cols))
    _report(fig1_fields(x, L, mode, resp, pair, os.path.join(out, f"fig1_{tag}")))


def _glass_outputs(glasses, out: str) -> None:
    """Tables and figures of the glass ensembles (see the module docstring)."""
    stems = {p: _input_stem(p) for p in {e.path for _, e, _, _ in glasses}}
    items = []
    for tag, ens, pdf, mle in glasses:
        items.append((tag, ens, pdf, mle, gl.summarize(ens, stems[ens.path])))
    fields = list(gl.GlassSummary.__dataclass_fields__)
    rows = []
    for tag, ens, _, m, s in items:
        # A at the lattice-model exponent of this d, over kappa < 1: one yardstick for all T_p
        eta_ref = PAPER_LATTICE_ETA.get(s.d, math.nan)
        a_ref = prefactor_at(ens.values("kappa"), eta_ref, 1.0) if s.n_kappa else math.nan
        rows.append([tag, *[getattr(s, f) for f in fields],
                     *((m.eta, m.err, m.A, m.kmax) if m else [math.nan] * 4), eta_ref, a_ref])
    _write_csv(os.path.join(out, "glass.csv"),
               ["tag", *fields, "eta_mle", "err_mle", "A_mle", "kmax_mle", "eta_ref", "A_at_eta_ref_kappa_below_1"],
               rows)
    _write_csv(os.path.join(out, "equilibration.csv"), ["tag", "block", "energy", "energy_err"],
               [(tag, b, u, e) for tag, ens, *_ in items for b, (u, e) in enumerate(zip(*gl.energy_series(ens)))])
    print(f"{'glass ensemble':24s} {'T_p':>5s} {'N':>6s} {'samples':>7s} {'kappa_g':>17s} {'G':>17s} {'eq shift/sigma':>14s}")
    for tag, _, _, _, s in items:
        print(f"{tag:24s} {s.T_p:5.2f} {s.N:6d} {s.samples:7d} {s.kappa_g:8.3f} ± {s.kappa_g_err:6.3f} "
              f"{s.G:8.3f} ± {s.G_err:6.3f} {s.eq_shift:14.1f}")
    for group in sorted(set(stems.values())):
        mine = [it for it in items if it[4].group == group]
        curves = [(f"{s.model} {s.d}D N={s.N} $T_p$={s.T_p:g}", pdf, mle) for _, _, pdf, mle, s in mine if pdf]
        dims = sorted({s.d for *_, s in mine})
        slopes = [PAPER_LATTICE_ETA[d] for d in dims if d in PAPER_LATTICE_ETA]
        _report(pkappa_family(curves, os.path.join(out, f"pkappa_{group}"),
                              f"{group}: p($\kappa$), MLE fits; dotted: lattice-model slopes", slopes))
        panels = []
        for tag, ens, _, _, s in mine:
            if s.pairs in ("all", "random"):
                f, kappa = gl.scatter(ens)
                binned = gl.kappa_by_force(f, kappa)
                _write_csv(os.path.join(out, f"scatter_{tag}.csv"), ["f", "kappa"], zip(f, kappa))
                e = binned["edges"]
                _write_csv(os.path.join(out, f"kappa_by_f_{tag}.csv"), ["f_lo", "f_hi", "median_kappa", "pairs"],
                           zip(e[:-1], e[1:], binned["median"], binned["counts"]))
                panels.append((f"{s.model} {s.d}D N={s.N} $T_p$={s.T_p:g}", f, kappa, binned))
        if panels:
            _report(fig2_scatter(panels, 1e-3, os.path.join(out, f"fig2_scatter_{group}")))
        modes = [(tag, gl.mode_statistics(ens)) for tag, ens, *_ in mine if ens.has("eigenvalues")]
        for tag, m in modes:
            _write_csv(os.path.join(out, f"modes_{tag}.csv"), ["omega", "participation"],
                       zip(m["omega"], m["participation"]))
        if modes:
            _report(modes_figure(modes, os.path.join(out, f"modes_{group}")))
        for tag, ens, *_, s in mine:
            if s.d == 2 and (ens.has("mode_vector") or ens.has("response_field")):
                _fig1(tag, ens, out)
    growth, rows = [], []
    for model, d in sorted({(s.model, s.d) for *_, s in items}):
        # one point per T_p: where several N share a T_p (a finite-size series), the largest N
        best: dict = {}
        for *_, s in items:
            # kappa_g of Fig. 6 is over the force-filtered pairs; ensembles of all/random pairs
            # (Figs. 2 and 4) measure something else and stay out
            if (s.model, s.d, s.pairs) == (model, d, "threshold") and (s.T_p not in best or s.N > best[s.T_p].N):
                best[s.T_p] = s
        mine = list(best.values())
        if len(mine) < 2:
            continue
        kc = gl.relative_to_highest_T(mine, "kappa_g")
        gc = gl.relative_to_highest_T(mine, "G") if all(np.isfinite(s.G) for s in mine) else None
        growth.append((f"{model} {d}D", kc, gc))
        for k in range(len(kc["T_p"])):
            rows.append([model, d, kc["T_p"][k], kc["ratio"][k], kc["err"][k],
                         gc["ratio"][k] if gc else math.nan, gc["err"][k] if gc else math.nan, kc["reference_T_p"]])
    if growth:
        _write_csv(os.path.join(out, "growth.csv"), ["model", "d", "T_p", "kappa_g_ratio", "kappa_g_ratio_err",
                                                      "G_ratio", "G_ratio_err", "reference_T_p"], rows)
        _report(fig6_growth(growth, os.path.join(out, "fig6_kappa_g_G")))
    for key in sorted({(s.model, s.d, s.T_p, s.protocol, s.pairs) for *_, s in items}):
        series = [(s, mle) for *_, mle, s in items if (s.model, s.d, s.T_p, s.protocol, s.pairs) == key]
        if len({s.N for s, _ in series}) < 2:
            continue
        table = gl.finite_size(series)
        name = f"finite_size_{key[0]}{key[1]}d"
        _write_csv(os.path.join(out, f"{name}.csv"), list(table), zip(*table.values()))
        _report(fig8_finite_size(table, os.path.join(out, f"fig8_{name}"), PAPER_LATTICE_ETA.get(key[1])))


if __name__ == "__main__":
    np.seterr(divide="ignore")
    sys.exit(main())
