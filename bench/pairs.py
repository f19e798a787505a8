"""Once-per-sample pair search: hpcglass's cell list (kernels.cells.candidate_pairs) against
scipy.spatial.cKDTree(boxsize=L).query_pairs, on random positions of each model at its density.

Prints, per (model, d, N): the median wall time over --repeat interleaved calls of the cell list,
of cKDTree alone (its own pair order) and of cKDTree with the pairs sorted by (i, j) (the order
the cell list gives its callers: i ascending), the ratios cells/cKDTree (> 1: cKDTree faster),
and whether both find the same pair set.

    .venv/bin/python bench/pairs.py [--N 2000 16000 --repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hpcglass.kernels.cells import candidate_pairs  # noqa: E402
from hpcglass.models import make_model  # noqa: E402


def kdtree_pairs(x, L, rc, ordered=False):
    xw = np.mod(x, L)
    xw[xw >= L] = 0.0
    p = cKDTree(xw, boxsize=L).query_pairs(rc, output_type="ndarray")
    if ordered:
        p = p[np.lexsort((p[:, 1], p[:, 0]))]
    return p[:, 0], p[:, 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, nargs="+", default=[2000, 16000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    for name, d in (("ipl", 2), ("ipl", 3), ("ipl", 4), ("poly", 3), ("kablj", 3)):
        for N in args.N:
            N = N - N % 10
            m = make_model(name, d, N, rng=np.random.default_rng(0))
            x = np.random.default_rng(1).random((N, d)) * m.L
            rc = m.max_cutoff
            candidate_pairs(x, m.L, rc)  # compile
            tc, tk, ts = [], [], []
            for _ in range(args.repeat):
                t = time.perf_counter(); a = candidate_pairs(x, m.L, rc); tc.append(time.perf_counter() - t)
                t = time.perf_counter(); b = kdtree_pairs(x, m.L, rc); tk.append(time.perf_counter() - t)
                t = time.perf_counter(); kdtree_pairs(x, m.L, rc, True); ts.append(time.perf_counter() - t)
            same = \
                set(zip(a[0].tolist(), a[1].tolist())) == set(zip(np.minimum(*b).tolist(), np.maximum(*b).tolist()))
            c, k, o = np.median(tc), np.median(tk), np.median(ts)
            print(f"{name} {d}D N={N}: cells {1e3 * c:.2f} ms, cKDTree {1e3 * k:.2f} ms, sorted {1e3 * o:.2f} ms; "
                  f"cells/cKDTree {c / k:.2f}, cells/sorted {c / o:.2f}, same pairs {same}", flush=True)


if __name__ == "__main__":
    main()
