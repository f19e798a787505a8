"""`python -m analysis.window_study`: the fit-window rules on synthetic glass-like ensembles with
a known exponent (analysis.synthetic.clustered_ensemble), printing per rule and shape the mean
MLE eta over independent draws, its scatter, the mean sample-bootstrap error and how often the
bootstrap error bar covers the true exponent.  The evidence behind the default glass window
(docs/analysis.md)."""

from __future__ import annotations

import argparse

import numpy as np

from .estimates import estimate
from .fits import Window
from .synthetic import clustered_ensemble

RULES = ["quantile:0.1", "quantile:0.01", "peak:0.5", "peak:0.3", "peak:0.2", "peak:0.1", "peak:0.05"]
GLASSY = {"spots": 10, "cluster": 0.4}
SHAPES = {  # name -> clustered_ensemble keywords
    "steep peak, 5% tail": GLASSY,
    "steep peak, 2% tail": {**GLASSY, "tail_weight": 0.02},
    "like POLY 3D N=2000": {"spots": 100, "cluster": 0.4, "peak": 32.0, "width": 0.6, "tail_weight": 0.3},
    "POLY-like, 10 spots": {**GLASSY, "peak": 32.0, "width": 0.6, "tail_weight": 0.3},
    "eta 0.5, steep peak": {**GLASSY, "eta": 0.5},
    "eta 0.8, 3 spots": {"spots": 3, "cluster": 0.25},
}


def study(rules, shapes, draws: int, n_samples: int, n_values: int, n_boot: int) -> list[tuple]:
    """Rows (shape, rule, true eta, mean eta, sd eta, mean bootstrap error, coverage, mean n_tail)."""
    rows = []
    for name, kw in shapes.items():
        eta_true = kw.get("eta", 0.8)
        ens = [clustered_ensemble(n_samples, n_values, seed=1000 + s, **kw) for s in range(draws)]
        for rule in rules:
            res = []
            for groups in ens:
                try:
                    e = estimate(groups, Window.parse(rule), n_boot=n_boot)
                    res.append((e.mle.eta, e.err_mle_boot, e.mle.n))
                except ValueError:
                    pass
            if not res:
                rows.append((name, rule, eta_true, *[np.nan] * 5))
                continue
            r = np.array(res)
            rows.append((name, rule, eta_true, r[:, 0].mean(), r[:, 0].std(ddof=1), np.nanmean(r[:, 1]),
                         np.mean(np.abs(r[:, 0] - eta_true) < r[:, 1]), r[:, 2].mean()))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analysis.window_study", description=__doc__)
    ap.add_argument("--draws", type=int, default=40)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--values", type=int, default=2000)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--shape", action="append", choices=list(SHAPES), help="only these shapes (repeatable)")
    a = ap.parse_args(argv)
    print(f"{a.draws} draws of {a.samples} samples x {a.values} values; {a.boot} bootstrap resamples each")
    print(f"{'shape':22s} {'rule':14s} {'true':>5s} {'mean':>6s} {'sd':>6s} {'boot err':>8s} {'cover':>6s} {'n_tail':>7s}")
    shapes = {k: v for k, v in SHAPES.items() if not a.shape or k in a.shape}
    for row in study(RULES, shapes, a.draws, a.samples, a.values, a.boot):
        print(f"{row[0]:22s} {row[1]:14s} {row[2]:5.2f} {row[3]:6.3f} {row[4]:6.3f} {row[5]:8.3f} {row[6]:6.2f} {row[7]:7.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
