"""POLY: continuously polydisperse inverse-power-law particles for swap Monte Carlo, 2D and 3D
(the paper's Sec. II, a variant of its Ref. [29], Ninarello, Berthier and Coslovich, PRX 7,
021039 (2017), as set up in its Ref. [34], E. Lerner, J. Non-Cryst. Solids 522, 119570 (2019);
docs/models.md).

Sizes from p(lambda) ~ lambda^-3 on [1, 2.22]; lambda_ij = (l_i + l_j)/2 (1 - 0.1 |l_i - l_j|);
f = x^-10 with q = 3 smoothing at x_c = 1.5 (2D; the public 2D inherent state is force-balanced
only there) and 1.4 (3D, inferred); densities 0.65 (2D) and 0.58 (3D, inferred).
"""

from __future__ import annotations

import numpy as np

from ..potentials.inverse_power import IPL10
from .spec import ModelSpec

LAMBDA_RANGE = (1.0, 2.22)
NONADDITIVITY = 0.1


def poly_sizes(N: int, d: int, rng: np.random.Generator, method: str = "filter", tol: float = 1e-3) -> np.ndarray:
    """POLY sizes from p(lambda) ~ lambda^-3 on LAMBDA_RANGE, float64 (N,).

    method 'filter' (the paper's "filtering procedure" of Ref. [34], as we read it): redraw the
    whole set until |S/<S> - 1| < tol, S = mean(lambda^d), so that samples share their packing
    fraction to 0.1 %; 'quantile': deterministic quantiles, shuffled.
    """
    lo, hi = LAMBDA_RANGE
    a, b = lo**-2, hi**-2

    def inverse_cdf(u):
        return (a - u * (a - b)) ** -0.5

    # <lambda^d> for p ~ lambda^-3 normalised on [lo, hi]: 2/(a-b) * int lambda^(d-3)
    norm = 2.0 / (a - b)
    mean_ld = norm * (np.log(hi / lo) if d == 2 else (hi ** (d - 2) - lo ** (d - 2)) / (d - 2))
    if method == "quantile":
        s = inverse_cdf((np.arange(N) + 0.5) / N)
        return rng.permutation(s)
    if method != "filter":
        raise ValueError(f"unknown size method {method!r}")
    for _ in range(100000):
        s = inverse_cdf(rng.random(N))
        if abs(np.mean(s**d) / mean_ld - 1.0) < tol:
            return s
    raise RuntimeError(f"no size set within tol={tol} after 1e5 draws (N={N}); raise tol or use 'quantile'")


def _composition(N: int, d: int, rng, method: str):
    if rng is None:
        raise ValueError("POLY needs an rng for its sizes")
    return np.zeros(N, dtype=np.int64), poly_sizes(N, d, rng, method)


MODEL = ModelSpec(
    name="poly",
    source="paper Sec. II, Refs. [29, 34]",
    dimensions=(2, 3),
    density={2: 0.65, 3: 0.58},
    potential=IPL10,
    xc={2: 1.5, 3: 1.4},
    q=3,
    lam=np.ones((2, 2)),
    eps=np.ones((2, 2)),
    species_names=("P",),
    composition=_composition,
    polydisperse=True,
    nonadd=NONADDITIVITY,
)
