"""Lattice-model throughput (hpcglass.lattice) against its practical limit, in one process (one rank).

Practical limit: the same loop without the weights.  It draws the same uniforms with the same
kind of Generator into the same buffer, maps u -> 1 - u -> t = u^-0.4 with the same vectorised
code, and sums t and t^2 in a numba kernel of the same structure (8 partial sums) but with no
weight multiplies.  For context it also prints the bare draw and the same limit with np.power
instead of exp/log.

Prints (1) realizations per second per rank, (2) ns per lattice site, (3) the same for the
limit loop, (4) the ratio limit time / our time (target >= 0.6), (5) the projected wall time
of --total realizations of this lattice on --ranks ranks, assuming each rank runs at the
measured one-process speed.

    .venv/bin/python bench/lattice.py [--d 2 --L 101 --n 3000 --ranks 2 --total 1e7]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hpcglass.lattice import _BUFFER_SITES, _omega_m2, generator, lattice_kappa, site_weights  # noqa: E402


@numba.njit(cache=True, nogil=True)
def _plain_sums(t, a, b):
    """a[k] = sum_j t[k, j], b[k] = sum_j t[k, j]^2: _weighted_sums without the weights."""
    n = t.shape[1]
    n8 = n - n % 8
    for k in range(t.shape[0]):
        row = t[k]
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = 0.0
        for j in range(0, n8, 8):
            x = row[j]
            a0 += x
            b0 += x * x
            x = row[j + 1]
            a1 += x
            b1 += x * x
            x = row[j + 2]
            a2 += x
            b2 += x * x
            x = row[j + 3]
            a3 += x
            b3 += x * x
            x = row[j + 4]
            a4 += x
            b4 += x * x
            x = row[j + 5]
            a5 += x
            b5 += x * x
            x = row[j + 6]
            a6 += x
            b6 += x * x
            x = row[j + 7]
            a7 += x
            b7 += x * x
        for j in range(n8, n):
            x = row[j]
            a0 += x
            b0 += x * x
        a[k] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
        b[k] = ((b0 + b1) + (b2 + b3)) + ((b4 + b5) + (b6 + b7))


def limit_loop(nsites: int, n: int, rng, power: str = "explog") -> float:
    """Draw n * nsites uniforms in the buffers lattice_kappa uses, raise to -0.4, sum t and t^2."""
    m = max(1, min(n, _BUFFER_SITES // nsites))
    buf = np.empty((m, nsites))
    a = np.empty(m)
    b = np.empty(m)
    acc = 0.0
    for k0 in range(0, n, m):
        t = buf[: min(m, n - k0)]
        rng.random(out=t)
        np.subtract(1.0, t, out=t)
        if power == "explog":
            _omega_m2(t)
        elif power == "pow":
            np.power(t, -0.4, out=t)
        else:  # "draw": the generator alone
            continue
        _plain_sums(t, a, b)
        acc += a[0] / b[0]
    return acc


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=2, help="lattice dimension (default 2)")
    ap.add_argument("--L", type=int, default=101, help="lattice side, odd (default 101)")
    ap.add_argument("--n", type=int, default=None, help="realizations per timing (default ~3e7 sites)")
    ap.add_argument("--ranks", type=int, default=2, help="ranks for the projection (default 2)")
    ap.add_argument("--total", type=float, default=1e7, help="realizations for the projection (default 1e7)")
    ap.add_argument("--repeats", type=int, default=3, help="timings per loop; the best is kept")
    args = ap.parse_args()

    nsites = site_weights(args.d, args.L).shape[0]
    n = args.n or max(1, int(3e7 // nsites))
    # warm up: numba compilation / cache load, page faults of the buffers
    lattice_kappa(args.d, args.L, min(n, 50), generator(np.random.SeedSequence(0)))
    limit_loop(nsites, min(n, 50), generator(np.random.SeedSequence(0)))

    rng = generator(np.random.SeedSequence(1))
    ours = best_of(lambda: lattice_kappa(args.d, args.L, n, rng), args.repeats)
    lim = {p: best_of(lambda: limit_loop(nsites, n, rng, p), args.repeats) for p in ("explog", "pow", "draw")}
    ns = lambda s: s / (n * nsites) * 1e9  # noqa: E731
    rate = n / ours
    print(f"lattice d={args.d} L={args.L} ({nsites} sites), {n} realizations per timing, best of {args.repeats}, "
          f"numpy {np.__version__}, numba {numba.__version__}, generator SFC64")
    print(f"(1) ours:  {rate:12.1f} realizations/s per rank")
    print(f"(2) ours:  {ns(ours):8.3f} ns per site")
    print(f"(3) limit: {n / lim['explog']:12.1f} realizations/s, {ns(lim['explog']):8.3f} ns per site "
          f"(draw + 1-u + exp/log power + unweighted sums)")
    print(f"    [context: np.power instead of exp/log {ns(lim['pow']):.3f} ns/site; "
          f"draw alone {ns(lim['draw']):.3f} ns/site]")
    print(f"(4) ratio limit/ours: {lim['explog'] / ours:.3f}  (target >= 0.6)")
    wall = args.total / (rate * args.ranks)
    print(f"(5) projected wall time, {args.total:.0e} realizations on {args.ranks} ranks: "
          f"{wall:.0f} s = {wall / 3600:.2f} h")


if __name__ == "__main__":
    main()
