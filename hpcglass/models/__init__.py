"""Glass formers: IPL (binary r^-10), POLY (continuously polydisperse r^-10), KABLJ (Kob-Andersen).

Every model is a smoothed pair potential phi(r) = eps_ij [base(x) + sum_l c_2l x^(2l)] for
x = r / lambda_ij < x_c and 0 beyond, with the polynomial chosen so that phi and its first q
derivatives vanish at x_c (physics_spec.md sections 1-3).  A :class:`PairModel` holds the
per-particle data (species or sizes) and the parameter tables; the numba kernels in
``hpcglass.kernels`` evaluate phi, phi', phi'' from one definition (:func:`hpcglass.kernels.pair.pair_phi`).
Units: epsilon = lambda = m = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np

BASE_IPL10 = 0  # x^-10
BASE_LJ = 1  # 4 (x^-12 - x^-6)

DEFAULT_DENSITY = {("ipl", 2): 0.86, ("ipl", 3): 0.82, ("ipl", 4): 0.76,
                   ("poly", 2): 0.65, ("poly", 3): 0.58, ("kablj", 3): 1.2}
POLY_XC = {2: 1.5, 3: 1.4}
POLY_LAMBDA_RANGE = (1.0, 2.22)
POLY_NONADDITIVITY = 0.1
IPL_LAMBDA = np.array([[1.0, 1.18], [1.18, 1.40]])
IPL_XC = 1.48
KA_SIGMA = np.array([[1.0, 0.8], [0.8, 0.88]])
KA_EPS = np.array([[1.0, 1.5], [1.5, 0.5]])
KA_XC = 2.5


def _dfact(n: int) -> int:
    return 1 if n <= 0 else n * _dfact(n - 2)


def ipl_coefficients(xc: float, n: int = 10, q: int = 3) -> np.ndarray:
    """c_0, c_2, ..., c_2q of the smoothing polynomial of x^-n (closed form, physics_spec.md section 1)."""
    return np.array([(-1) ** (l + 1) / (_dfact(2 * q - 2 * l) * _dfact(2 * l))
                     * _dfact(n + 2 * q) / (_dfact(n - 2) * (n + 2 * l)) * xc ** (-(n + 2 * l))
                     for l in range(q + 1)])


def base_derivatives(base: int, x: float, kmax: int) -> np.ndarray:
    """d^k/dx^k of the base potential at x, k = 0..kmax (float64)."""
    if base == BASE_IPL10:
        terms = [(1.0, -10)]
    else:
        terms = [(4.0, -12), (-4.0, -6)]
    out = np.zeros(kmax + 1)
    for a, p in terms:
        coef, power = a, p
        for k in range(kmax + 1):
            out[k] += coef * x**power
            coef *= power
            power -= 1
    return out


def smoothing_coefficients(base: int, xc: float, q: int) -> np.ndarray:
    """Solve d^k/dx^k [base + sum_l c_2l x^2l](xc) = 0 for k = 0..q (general base potential)."""
    A = np.zeros((q + 1, q + 1))
    for k in range(q + 1):
        for l in range(q + 1):
            p = 2 * l
            A[k, l] = 0.0 if k > p else factorial(p) / factorial(p - k) * xc ** (p - k)
    return np.linalg.solve(A, -base_derivatives(base, xc, q))


@dataclass(frozen=True)
class PairModel:
    """A glass former instantiated for N particles in a periodic hypercube.

    name      : 'ipl', 'poly' or 'kablj'
    d, N      : dimension, particle count
    L         : box side (lambda units), L = (N / density)^(1/d)
    species   : int64 (N,) type index (0 = small/A, 1 = large/B); zeros for POLY
    sizes     : float64 (N,) lambda_i for POLY; ones otherwise
    lam, eps  : float64 (2, 2) per-type lambda_ij and eps_ij (unused for POLY lambda)
    poly      : True for POLY (lambda_ij from the sizes with non-additivity ``nonadd``)
    base      : BASE_IPL10 or BASE_LJ
    xc        : cutoff in units of lambda_ij
    coeffs    : float64 (q+1,) smoothing coefficients c_0, c_2, ... (per eps)
    """

    name: str
    d: int
    N: int
    L: float
    species: np.ndarray
    sizes: np.ndarray
    lam: np.ndarray
    eps: np.ndarray
    poly: bool
    nonadd: float
    base: int
    xc: float
    coeffs: np.ndarray

    @property
    def volume(self) -> float:
        return self.L**self.d

    @property
    def max_cutoff(self) -> float:
        """Largest pair cutoff x_c lambda_ij in the system."""
        if self.poly:
            lmax = float(self.sizes.max())
            return self.xc * lmax
        return self.xc * float(self.lam[np.ix_(np.unique(self.species), np.unique(self.species))].max())

    def with_sizes(self, sizes: np.ndarray) -> "PairModel":
        """The same model with other per-particle sizes (swap Monte Carlo)."""
        return PairModel(**{**self.__dict__, "sizes": np.ascontiguousarray(sizes, dtype=np.float64)})


def poly_sizes(N: int, d: int, rng: np.random.Generator, method: str = "filter", tol: float = 1e-3) -> np.ndarray:
    """POLY sizes from p(lambda) ~ lambda^-3 on [1, 2.22] (physics_spec.md section 2).

    method 'filter': redraw the whole set until |S/<S> - 1| < tol, S = mean(lambda^d), so that
    samples share their packing fraction to 0.1 %; 'quantile': deterministic quantiles, shuffled.
    """
    lo, hi = POLY_LAMBDA_RANGE
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


def make_model(name: str, d: int, N: int, density: float = 0.0, rng: np.random.Generator | None = None,
               size_method: str = "filter", smoothed_lj: bool = True) -> PairModel:
    """Instantiate a glass former; ``density`` 0 means the model's default (DEFAULT_DENSITY).

    IPL: 50:50 (first N/2 small); KABLJ: 80:20 (first 4N/5 type A); POLY: sizes drawn with
    ``rng`` by :func:`poly_sizes`.
    """
    key = (name, d)
    if key not in DEFAULT_DENSITY:
        raise ValueError(f"model {name!r} is not defined in d = {d}")
    rho = density or DEFAULT_DENSITY[key]
    L = (N / rho) ** (1.0 / d)
    species = np.zeros(N, dtype=np.int64)
    sizes = np.ones(N)
    if name == "ipl":
        species[N // 2:] = 1
        return PairModel("ipl", d, N, L, species, sizes, IPL_LAMBDA.copy(), np.ones((2, 2)), False, 0.0,
                         BASE_IPL10, IPL_XC, ipl_coefficients(IPL_XC))
    if name == "poly":
        if rng is None:
            raise ValueError("POLY needs an rng for its sizes")
        sizes = poly_sizes(N, d, rng, size_method)
        xc = POLY_XC[d]
        return PairModel("poly", d, N, L, species, sizes, np.ones((2, 2)), np.ones((2, 2)), True,
                         POLY_NONADDITIVITY, BASE_IPL10, xc, ipl_coefficients(xc))
    if name == "kablj":
        species[(4 * N) // 5:] = 1
        coeffs = smoothing_coefficients(BASE_LJ, KA_XC, 2) if smoothed_lj else np.array(
            [-base_derivatives(BASE_LJ, KA_XC, 0)[0]])
        return PairModel("kablj", d, N, L, species, sizes, KA_SIGMA.copy(), KA_EPS.copy(), False, 0.0,
                         BASE_LJ, KA_XC, coeffs)
    raise ValueError(f"unknown model {name!r}")
