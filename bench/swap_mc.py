"""Swap Monte Carlo throughput (hpcglass.sampling.swap_mc) for POLY 2D and 3D, one core.

Prepares a POLY liquid (random start, FIRE to max|F| < 1, --warmup sweeps at T from the first
--skin: 20 tune delta, the rest steer the skin), then times --sweeps sweeps at T with delta
frozen, from the skin the warm-up steered to: the steady state of a long run, whose first
builds steer from its starting skin by 1.1x each.  With --fixed-skin the timed runs use each
--skin and keep it, which scans the skin (how BUILD_SWEEPS was chosen).

Prints attempted moves per second per core (target >= 1e6), the acceptance ratios, the skin
at the start and at the end, the most neighbours a displacement visits at the final skin (the
size-aware prefix of its row once the drift since the build reaches the skin; the work per move
is proportional to the prefix) against a plain Verlet list of the largest pair's radius (what
the code visited before the size-aware rows), and the number of rebuilds.

    .venv/bin/python bench/swap_mc.py [--N 2000 --T 0.5 --sweeps 300 --warmup 100 --skin 0.9 --fixed-skin]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hpcglass.kernels.cells import candidate_pairs  # noqa: E402
from hpcglass.kernels.forces import VerletList  # noqa: E402
from hpcglass.models import make_model  # noqa: E402
from hpcglass.sampling.minimize import fire  # noqa: E402
from hpcglass.sampling.swap_mc import swap_mc  # noqa: E402
from hpcglass.sampling.swap_rows import row_end, size_bounds, sorted_rows  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--N", type=int, default=2000)
    ap.add_argument("--T", type=float, default=0.5)
    ap.add_argument("--sweeps", type=int, default=300)
    ap.add_argument("--d", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--skin", type=float, nargs="+", default=[0.9])
    ap.add_argument("--fixed-skin", action="store_true")
    ap.add_argument("--warmup", type=int, default=100)
    args = ap.parse_args()
    for d in args.d:
        rng = np.random.default_rng(1)
        m = make_model("poly", d, args.N, rng=rng)
        x = fire(rng.random((m.N, d)) * m.L, m.L, VerletList(m).force, ftol=1.0).x
        warm = swap_mc(x, m, args.T, args.warmup, rng, tune=20, skin=args.skin[0])
        m = m.with_sizes(warm.sizes)
        for skin in args.skin if args.fixed_skin else [warm.skin]:
            t0 = time.perf_counter()
            r = swap_mc(warm.x, m, args.T, args.sweeps, np.random.default_rng(2), delta=warm.delta, tune=0,
                        skin=skin, adapt_skin=not args.fixed_skin)
            wall = time.perf_counter() - t0
            xp = np.zeros((m.N, 3))
            xp[:, :d] = warm.x
            start, _, _, ends, k_lo, width = sorted_rows(xp, d, size_bounds(m.sizes), m.L, m.xc, r.skin,
                                                          m.max_cutoff + r.skin)
            visited = np.mean([row_end(start, ends, i, 0.5 * m.xc * m.sizes[i] + r.skin, k_lo, width) - start[i]
                               for i in range(m.N)])
            plain = len(candidate_pairs(warm.x, m.L, m.max_cutoff + r.skin)[0]) * 2 / m.N
            print(f"POLY {d}D N={args.N} T={args.T} skin {skin:.2f} -> {r.skin:.2f}: {r.attempts / wall:.3g} "
                  f"attempts/s/core ({r.attempts} in {wall:.2f} s), neighbours per displacement <= {visited:.1f} "
                  f"(plain Verlet list {plain:.0f}), acceptance displacement {r.acc_displacement:.2f} "
                  f"swap {r.acc_swap:.3f}, delta {r.delta:.3f}, rebuilds {r.rebuilds}", flush=True)


if __name__ == "__main__":
    main()
