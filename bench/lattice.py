"""Lattice-model throughput against the practical limit, in one process.

The practical limit is the fastest loop that only draws the uniforms (same generator) and
raises them to the power the model needs (omega^-2 = u^-0.4), with no weights and no sums.
Prints realizations per second per rank, ns per site, the ratio ours/limit (target >= 0.6) and
the projected wall time of the paper's 10^7 realizations on a given number of ranks.

    .venv/bin/python bench/lattice.py [--d 2 --L 101 --n 4000 --ranks 2]
"""

import argparse
import time

import numpy as np

from hpcglass.lattice import _BUFFER_SITES, generator, lattice_kappa, site_weights


def limit_loop(nsites: int, n: int, rng) -> float:
    """Draw n * nsites uniforms in the same buffers as lattice_kappa and raise them to -0.4."""
    per = max(1, min(n, _BUFFER_SITES // nsites))
    buf = np.empty((per, nsites))
    acc = 0.0
    for k0 in range(0, n, per):
        t = buf[: min(per, n - k0)]
        rng.random(out=t)
        np.power(t, -0.4, out=t)
        acc += t[0, 0]
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
    ap.add_argument("--d", type=int, nargs="*", default=[2, 3, 4])
    ap.add_argument("--L", type=int, nargs="*", default=[101, 21, 11])
    ap.add_argument("--n", type=int, default=4000, help="realizations per timing")
    ap.add_argument("--ranks", type=int, default=2, help="ranks for the projection")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    lattice_kappa(2, 5, 10, generator(np.random.SeedSequence(0)))  # compile
    print(f"{'d':>2} {'L':>4} {'sites':>7} {'real/s/rank':>12} {'ns/site':>8} {'limit ns/site':>13} "
          f"{'ratio':>6} {'1e7 on ' + str(args.ranks) + ' ranks':>16}")
    for d, L in zip(args.d, args.L):
        nsites = site_weights(d, L).shape[0]
        rng = generator(np.random.SeedSequence(1))
        ours = best_of(lambda: lattice_kappa(d, L, args.n, rng), args.repeats)
        limit = best_of(lambda: limit_loop(nsites, args.n, rng), args.repeats)
        per_site = ours / (args.n * nsites) * 1e9
        projected = 1e7 / (args.n / ours) / args.ranks
        print(f"{d:>2} {L:>4} {nsites:>7} {args.n / ours:>12.0f} {per_site:>8.2f} "
              f"{limit / (args.n * nsites) * 1e9:>13.2f} {limit / ours:>6.2f} {projected:>14.0f} s")


if __name__ == "__main__":
    main()
