"""`python -m analysis RUN.h5 [RUN2.h5 ...] --plots DIR [--window RULE] [--boot N]`: p(kappa),
eta with sample-bootstrap errors, per-sample diagnostics, figures and CSV tables.

Every ensemble with kappa values is fitted on one window rule (--window, default peak:0.3: kmax
at 0.3 times the peak of the log-binned p(kappa); docs/analysis.md says why), by maximum
likelihood and least squares; errors are standard deviations over bootstrap resamples of whole
samples (tasks), the window rule redone on each.  A window holding fewer than 20 values or lying
above the peak is reported for that ensemble and the others go on.  kappa <= 0 or non-finite
is left out and counted.  Outputs: a printed table, DIR/eta.csv (one row per ensemble and
subset), DIR/pkappa_<ensemble>.csv, DIR/fig3b_lattice.png/.pdf when lattice ensembles exist.
Glass ensembles (analysis/glass.py), grouped by the input file they were run from:
  glass.csv                         kappa_g and G (bootstrap over samples), U/N, eq. check, eta,
                                    and A at the lattice eta of d from the fraction with kappa < 1;
                                    with flagged samples, a second row over the unflagged ones
  samples.csv, samples_<ens>.png    per-sample U/N, p, G, lowest eigenvalues, window shares, flags
  eta_scan_<ens>.csv/.png           MLE eta against kmax over 1.5 decades below the peak, bands
  cumulative_<ens>.csv/.png         unbinned F(kappa) and its local exponent
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
  modes_<input>.png/.pdf            modes per sample below omega and participation, modes_<ensemble>.csv
  fig1_<ensemble>.png/.pdf          2D ensembles with stored fields: the lowest mode and the first
                                    dipole response of the first sample (Fig. 1), fields_<ensemble>.csv
Exit status 2 if a file is missing or not an hpcglass run file, or an option is malformed.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import os
import sys

import numpy as np

from . import glass as gl
from .bootstrap import N_BOOT
from .distributions import log_binned_pdf, pdf_from_histogram
from .estimates import clean, cumulative, estimate, window_scan
from .fits import Pool, Window, prefactor_at
from .io import RunFileError, open_run, provenance
from .plots import (PAPER_LATTICE_ETA, cumulative_figure, eta_scan_figure, fig1_fields, fig2_scatter, fig3b_lattice,
                    fig6_growth, fig8_finite_size, modes_figure, pkappa_family, samples_figure)
from .samples import flags, window_shares

COLUMNS = ["file", "ensemble", "kind", "d", "n_values", "eta_lsq", "err_lsq", "kmin", "kmax", "bins",
           "A_lsq", "eta_mle", "err_mle", "n_tail", "A_mle", "eta_paper", "window_rule",
           "n_samples", "err_mle_boot", "err_lsq_boot", "A_mle_err_boot", "subset", "n_excluded", "n_dropped"]

# Kinds whose tasks are glass samples (per-sample diagnostics, flags, glass tables).
SAMPLE_KINDS = ("glass", "analyse")

# The default window of every ensemble, glasses and lattice alike (docs/analysis.md, "Fit windows").
DEFAULT_WINDOW = "peak:0.3"


def _fmt(fit, fmt):
    return fmt(fit) if fit is not None else "n/a"


def _kappa_groups(ens) -> tuple[list[np.ndarray], np.ndarray]:
    """(kappa per finished task with only finite positive values, values dropped per task)."""
    done = ens.done()
    return clean([k for k, ok in zip(ens.ragged("kappa"), done) if ok])


def _sample_table(ens, groups, dropped, kmax: float) -> dict:
    """samples.csv columns of a glass ensemble (finished samples) with their flags."""
    done = ens.done()
    n = int(done.sum())

    def col(name, k=None):
        if not ens.has(name):
            return np.full(n, np.nan)
        a = ens.array(name)[done].astype(np.float64)
        return a if k is None else a[:, k]

    lam = [col("lambda_low", k) for k in range(3)]
    unstable = col("unstable")
    shares = window_shares(groups, kmax)
    below = np.array([np.count_nonzero(g < kmax) / g.size if g.size else np.nan for g in groups])
    G = col("G")
    return {"sample": np.arange(n), "task_index": ens.task_index()[done], "energy": col("energy"),
            "pressure": col("pressure"), "G": G, "lambda_1": lam[0], "lambda_2": lam[1], "lambda_3": lam[2],
            "participation_1": col("participation_low", 0), "unstable": unstable, "n_kappa_dropped": dropped,
            "frac_below_kmax": below, "window_share": shares,
            "flag": flags(G, lam[0], np.nan_to_num(unstable), shares)}


def _row(ens, tag, est, n, dropped, paper, subset, n_excl):
    lsq, mle = est.lsq, est.mle
    nan = math.nan
    d = ens.dim()
    return [os.path.basename(ens.path), ens.name, ens.kind, "" if d is None else d, n,
            lsq.eta if lsq else nan, lsq.err if lsq else nan, lsq.kmin if lsq else nan, mle.kmax,
            lsq.n if lsq else 0, lsq.A if lsq else nan, mle.eta, mle.err, mle.n, mle.A,
            "" if paper is None else paper, mle.window, est.n_samples, est.err_mle_boot, est.err_lsq_boot,
            est.A_err_boot, subset, n_excl, dropped]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 2 bad input file or option)."""
    ap = argparse.ArgumentParser(prog="python -m analysis", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="hpcglass run files")
    ap.add_argument("--plots", required=True, help="output folder for figures and CSV tables")
    ap.add_argument("--window", default=DEFAULT_WINDOW,
                    help="fit window of every ensemble: quantile:F (kmax at the F quantile), peak:FRAC (kmax "
                         "at FRAC times the peak of the log-binned p(kappa)) or kappa:KMIN,KMAX "
                         f"(default {DEFAULT_WINDOW})")
    ap.add_argument("--per-decade", type=int, default=10, help="log bins per decade (default 10)")
    ap.add_argument("--min-counts", type=int, default=10,
                    help="least-squares window: every bin needs at least this many counts (default 10)")
    ap.add_argument("--boot", type=int, default=N_BOOT,
                    help=f"bootstrap resamples of whole samples (default {N_BOOT}, at least 200 recommended)")
    args = ap.parse_args(argv)
    try:
        window = Window.parse(args.window)
    except ValueError as exc:
        ap.error(str(exc))
    if args.boot < 2:
        ap.error("--boot must be at least 2")
    try:
        ensembles = [e for path in args.runs for e in open_run(path)]
    except RunFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if os.path.exists(args.plots) and not os.path.isdir(args.plots):
        print(f"error: --plots {args.plots}: exists and is not a folder", file=sys.stderr)
        return 2
    os.makedirs(args.plots, exist_ok=True)
    names = [e.name for e in ensembles]
    print(f"window: {window.text()} for every ensemble; errors: standard deviation over {args.boot} "
          "bootstrap resamples of whole samples (tasks), the window redone on each")
    print(f"{'ensemble':24s} {'kind':8s} {'d':>2s} {'values':>9s} {'subset':>9s} {'eta LSQ':>15s} "
          f"{'[kmin, kmax]':>19s} {'eta MLE':>15s} {'n_tail':>6s} {'samples':>7s} {'paper':>6s}")
    rows, lattice, glasses = [], [], []
    for ens in ensembles:
        d = ens.dim()
        tag = ens.name if names.count(ens.name) == 1 else \
            f"{os.path.splitext(os.path.basename(ens.path))[0]}_{ens.name}"
        paper = PAPER_LATTICE_ETA.get(d) if ens.kind == "lattice" else None
        if not ens.is_ragged("kappa"):
            if ens.has("hist_counts") and ens.has("hist_edges"):  # lattice runs that kept no raw kappa
                pdf = pdf_from_histogram(*ens.histogram())
                print(f"{tag:24s} {ens.kind:8s} {d!s:>2s} {pdf.total:>9d} (histogram only: no fit)")
                _write_csv(os.path.join(args.plots, f"pkappa_{tag}.csv"), ["kappa", "pdf", "counts"],
                           zip(pdf.centres, pdf.pdf, pdf.counts), quiet=True)
                lattice.append((d, f"d={d}" if names.count(ens.name) == 1 else tag, pdf, None, None))
            continue
        groups, dropped = _kappa_groups(ens)
        n = int(sum(g.size for g in groups))
        if n == 0:
            print(f"{tag:24s} {ens.kind:8s} {d!s:>2s} (no finite positive kappa values)")
            continue
        pooled = np.concatenate(groups)
        pdf = log_binned_pdf(pooled, args.per_decade)
        if dropped.sum():
            print(f"  {tag}: {int(dropped.sum())} kappa values <= 0 or not finite left out, in "
                  f"{int(np.count_nonzero(dropped))} of {len(groups)} samples")
        try:
            est = estimate(groups, window, args.per_decade, args.min_counts, n_boot=args.boot)
        except ValueError as exc:
            print(f"warning: ensemble {tag}: {exc}; no fit for it, the other ensembles go on")
            est = None
        subsets = [("all", est, groups, 0, int(dropped.sum()))]
        table = None
        if ens.kind in SAMPLE_KINDS:
            kmax = est.mle.kmax if est else window.bounds(Pool(groups, args.per_decade))[1]
            table = _sample_table(ens, groups, dropped, kmax)
            if not ens.has("lambda_low"):
                print(f"  {tag}: no eigenvalues stored (older run file): flags use G and the window shares only")
            bad = np.array([bool(f) for f in table["flag"]])
            if bad.any() and (~bad).sum() >= 2:
                kept = [g for g, b in zip(groups, bad) if not b]
                try:
                    est_u = estimate(kept, window, args.per_decade, args.min_counts, n_boot=args.boot)
                except ValueError as exc:
                    print(f"warning: ensemble {tag} without its flagged samples: {exc}")
                    est_u = None
                subsets.append(("unflagged", est_u, kept, int(bad.sum()), int(dropped[~bad].sum())))
        for subset, e, _, n_excl, n_drop in subsets:
            if e is None:
                continue
            print(f"{tag:24s} {ens.kind:8s} {d!s:>2s} {n:>9d} {subset:>9s} "
                  f"{_fmt(e.lsq, lambda f: f'{f.eta:7.3f} ± {e.err_lsq_boot:5.3f}'):>15s} "
                  f"{f'[{e.mle.kmin:8.2e},{e.mle.kmax:8.2e}]':>19s} "
                  f"{e.mle.eta:7.3f} ± {e.err_mle_boot:5.3f} {e.mle.n:>6d} {e.n_samples:>7d} "
                  f"{'' if paper is None else f'{paper:6.2f}'}" + (f"  ({n_excl} flagged samples left out)" if n_excl else ""))
            rows.append(_row(ens, tag, e, n, n_drop, paper, subset, n_excl))
        _write_csv(os.path.join(args.plots, f"pkappa_{tag}.csv"), ["kappa", "pdf", "counts"],
                   zip(pdf.centres, pdf.pdf, pdf.counts), quiet=True)
        fit = dataclasses.replace(est.mle, err=est.err_mle_boot) if est else None
        if ens.kind == "lattice":
            lsq = dataclasses.replace(est.lsq, err=est.err_lsq_boot) if est and est.lsq else None
            lattice.append((d, f"d={d}" if names.count(ens.name) == 1 else tag, pdf, lsq, fit))
        if ens.kind in SAMPLE_KINDS:
            glasses.append(GlassItem(tag, ens, pdf, fit, est, table, subsets))
    _write_csv(os.path.join(args.plots, "eta.csv"), COLUMNS, rows)
    if lattice:
        lattice.sort(key=lambda t: (t[0] if t[0] is not None else 0, t[1]))
        _report(fig3b_lattice(lattice, os.path.join(args.plots, "fig3b_lattice")))
    if glasses:
        _glass_outputs(glasses, args.plots, args.per_decade, args.boot)
    return 0


@dataclasses.dataclass
class GlassItem:
    """What the glass outputs need of one ensemble: its tag, Ensemble, pdf, MLE fit (error:
    sample bootstrap) or None, the EtaEstimate or None, samples.csv table and the subsets."""

    tag: str
    ens: object
    pdf: object
    fit: object
    est: object
    table: dict
    subsets: list


def _flagged_values(g: GlassItem) -> np.ndarray:
    """bool per value of ``g.ens.values(...)`` (finished tasks, task order): its sample is flagged."""
    done = g.ens.done()
    sizes = [len(k) for k, ok in zip(g.ens.ragged("kappa"), done) if ok]
    return np.repeat(np.array([bool(f) for f in g.table["flag"]], dtype=bool), sizes)


def _scan_outputs(g: GlassItem, out: str, per_decade: int, n_boot: int) -> None:
    """eta_scan_<tag>.csv/.png and cumulative_<tag>.csv/.png of one glass ensemble (all samples,
    and the unflagged ones on the cumulative plot where any is flagged)."""
    groups = g.subsets[0][2]
    try:
        scan = window_scan(groups, per_decade, n_boot=n_boot)
    except ValueError as exc:
        print(f"warning: ensemble {g.tag}: no window scan ({exc})")
        return
    keys = ["kmax", "frac_of_peak", "n_tail", "eta", "err_boot", "err_naive"]
    _write_csv(os.path.join(out, f"eta_scan_{g.tag}.csv"), keys, zip(*(scan[k] for k in keys)))
    if scan["kmax"].size:
        _report(eta_scan_figure(scan, g.est, g.tag, os.path.join(out, f"eta_scan_{g.tag}")))
    curves = [("all samples", cumulative(np.concatenate(groups), per_decade))]
    if len(g.subsets) > 1:
        curves.append((f"without {g.subsets[1][3]} flagged", cumulative(np.concatenate(g.subsets[1][2]), per_decade)))
    c = curves[0][1]
    _write_csv(os.path.join(out, f"cumulative_{g.tag}.csv"), ["kappa", "F_grid", "local_eta"],
               zip(c["grid"], c["F_grid"], c["local_eta"]))
    d = g.ens.dim()
    slopes = [("paper's lattice", PAPER_LATTICE_ETA[d])] if d in PAPER_LATTICE_ETA else []
    _report(cumulative_figure(curves, g.tag, os.path.join(out, f"cumulative_{g.tag}"), slopes))


def _input_stem(path: str) -> str:
    """The stem of the input a run file came from (job-array files of one input share it)."""
    src = provenance(path).get("input_path") or path
    return os.path.splitext(os.path.basename(src))[0]


def _write_csv(path: str, header: list[str], rows, quiet: bool = False) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    if not quiet:
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


SAMPLE_COLUMNS = ["file", "ensemble", "sample", "task_index", "energy", "pressure", "G", "lambda_1", "lambda_2",
                  "lambda_3", "participation_1", "unstable", "n_kappa_dropped", "frac_below_kmax", "window_share",
                  "flag"]


def _glass_outputs(glasses: list[GlassItem], out: str, per_decade: int, n_boot: int) -> None:
    """Tables and figures of the glass ensembles (see the module docstring)."""
    stems = {p: _input_stem(p) for p in {g.ens.path for g in glasses}}
    by_tag = {g.tag: g for g in glasses}
    items, summaries = [], []
    for g in glasses:
        s = gl.summarize(g.ens, stems[g.ens.path])
        items.append((g.tag, g.ens, g.pdf, g.fit, s))
        summaries.append((g, s, g.fit, g.est))
        if len(g.subsets) > 1:
            bad = np.zeros(g.ens.done().size, dtype=bool)
            bad[g.ens.done()] = [bool(f) for f in g.table["flag"]]
            e = g.subsets[1][1]
            fit = dataclasses.replace(e.mle, err=e.err_mle_boot) if e else None
            summaries.append((g, gl.summarize(g.ens, stems[g.ens.path], exclude=bad), fit, e))
    fields = list(gl.GlassSummary.__dataclass_fields__)
    rows = []
    for g, s, m, e in summaries:
        # A at the lattice-model exponent of this d, over kappa < 1: one yardstick for all T_p
        eta_ref = PAPER_LATTICE_ETA.get(s.d, math.nan)
        a_ref = prefactor_at(g.ens.values("kappa"), eta_ref, 1.0) if s.n_kappa else math.nan
        rows.append([g.tag, *[getattr(s, f) for f in fields],
                     *((m.eta, m.err, m.A, m.kmax, e.err_lsq_boot, e.n_samples) if m else [math.nan] * 6),
                     eta_ref, a_ref])
    _write_csv(os.path.join(out, "glass.csv"),
               ["tag", *fields, "eta_mle", "err_mle_boot", "A_mle", "kmax_mle", "err_lsq_boot", "n_samples_fit",
                "eta_ref", "A_at_eta_ref_kappa_below_1"], rows)
    _write_csv(os.path.join(out, "samples.csv"), SAMPLE_COLUMNS,
               [[os.path.basename(g.ens.path), g.ens.name, *row]
                for g in glasses for row in zip(*(g.table[c] for c in SAMPLE_COLUMNS[2:]))])
    for g in glasses:
        bad = [f for f in g.table["flag"] if f]
        if bad:
            print(f"  {g.tag}: {len(bad)} of {len(g.table['flag'])} samples flagged "
                  f"({', '.join(sorted(set(bad)))}); eta.csv and glass.csv give both subsets")
        _report(samples_figure(g.table["G"], g.table["lambda_1"], g.table["flag"], g.tag,
                               os.path.join(out, f"samples_{g.tag}")))
        _scan_outputs(g, out, per_decade, n_boot)
    _write_csv(os.path.join(out, "equilibration.csv"), ["tag", "block", "energy", "energy_err"],
               [(tag, b, u, e) for tag, ens, *_ in items for b, (u, e) in enumerate(zip(*gl.energy_series(ens)))])
    print(f"{'glass ensemble':24s} {'subset':>9s} {'T_p':>5s} {'N':>6s} {'samples':>7s} {'kappa_g':>17s} "
          f"{'G':>17s} {'eq shift/sigma':>14s}")
    for g, s, *_ in summaries:
        print(f"{g.tag:24s} {s.subset:>9s} {s.T_p:5.2f} {s.N:6d} {s.samples:7d} {s.kappa_g:8.3f} ± {s.kappa_g_err:6.3f} "
              f"{s.G:8.3f} ± {s.G_err:6.3f} {s.eq_shift:14.1f}")
    for group in sorted(set(stems.values())):
        mine = [it for it in items if it[4].group == group]
        curves = [(f"{s.model} {s.d}D N={s.N} $T_p$={s.T_p:g}", pdf, mle) for _, _, pdf, mle, s in mine if pdf]
        dims = sorted({s.d for *_, s in mine})
        slopes = [PAPER_LATTICE_ETA[d] for d in dims if d in PAPER_LATTICE_ETA]
        _report(pkappa_family(curves, os.path.join(out, f"pkappa_{group}"),
                              f"{group}: p($\\kappa$), MLE fits (sample-bootstrap errors)", slopes))
        panels = []
        for tag, ens, _, _, s in mine:
            if s.pairs in ("all", "random"):
                f, kappa = gl.scatter(ens)
                flagged = _flagged_values(by_tag[tag])
                binned = gl.kappa_by_force(f, kappa)
                _write_csv(os.path.join(out, f"scatter_{tag}.csv"), ["f", "kappa"], zip(f, kappa))
                e = binned["edges"]
                _write_csv(os.path.join(out, f"kappa_by_f_{tag}.csv"), ["f_lo", "f_hi", "median_kappa", "pairs"],
                           zip(e[:-1], e[1:], binned["median"], binned["counts"]))
                panels.append((f"{s.model} {s.d}D N={s.N} $T_p$={s.T_p:g}", f, kappa, binned, flagged, s.T_p))
        if panels:
            panels.sort(key=lambda pnl: -pnl[5])  # the paper's order: highest T_p left
            _report(fig2_scatter([pnl[:5] for pnl in panels], 1e-3, os.path.join(out, f"fig2_scatter_{group}")))
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
