"""What a glass former is (:class:`ModelSpec`) and one instance of it (:class:`PairModel`).

Every model is a smoothed pair potential phi(r) = eps_ij [f(x) + sum_l c_l x^(2l)] for
x = r / lambda_ij < x_c and 0 beyond (``hpcglass.potentials``), on particles of two species
(tables lambda_ij, eps_ij) or of continuous sizes (lambda_ij from the two sizes).  Units:
epsilon = lambda = m = k_B = 1.  The model modules (ipl, poly, kablj) each define one
ModelSpec; ``hpcglass.models`` maps the YAML names to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..potentials import MAX_TERMS, Potential


@dataclass(frozen=True)
class ModelSpec:
    """A glass former: its constants, dimensions, composition and potential.

    name         : YAML name (``model:``)
    source       : where the definition comes from (paper section, literature)
    dimensions   : dimensions d it is defined in
    density      : default number density per d
    potential    : its base potential
    xc           : cutoff x_c in units of lambda_ij, per d
    q            : smoothing order (phi and q derivatives vanish at x_c)
    lam, eps     : float64 (2, 2) per-species lambda_ij and eps_ij (ones for a polydisperse model)
    species_names: chemical-symbol-like names per species for exchange files (one for POLY)
    composition  : (N, d, rng, size_method) -> (species int64 (N,), sizes float64 (N,))
    check_N      : N -> None, or the reason N is not allowed (e.g. "even" for a 50:50 mixture)
    polydisperse : lambda_ij from per-particle sizes (``nonadd``: non-additivity) instead of lam
    attractive   : the potential has an attractive part (pair forces f < 0 occur), so the
                   pair-force filter of the paper does not apply
    """

    name: str
    source: str
    dimensions: tuple
    density: dict
    potential: Potential
    xc: dict
    q: int
    lam: np.ndarray
    eps: np.ndarray
    species_names: tuple
    composition: Callable
    check_N: Callable = field(default=lambda N: None)
    polydisperse: bool = False
    nonadd: float = 0.0
    attractive: bool = False

    def instantiate(self, d: int, N: int, density: float = 0.0, rng: np.random.Generator | None = None,
                    size_method: str = "filter", smoothed: bool = True) -> "PairModel":
        """The model for N particles in a periodic hypercube of dimension d.

        ``density`` 0 means the model's default; ``smoothed`` False replaces the smoothing by a
        plain energy shift (q = 0: phi continuous, phi' not), as LAMMPS's ``lj/cut`` with
        ``pair_modify shift yes``.
        """
        if d not in self.dimensions:
            raise ValueError(f"model {self.name!r} is not defined in d = {d}")
        rho = density or self.density[d]
        species, sizes = self.composition(N, d, rng, size_method)
        xc = self.xc[d]
        return PairModel(self.name, d, N, (N / rho) ** (1.0 / d), species, sizes, self.lam.copy(), self.eps.copy(),
                         self.polydisperse, self.nonadd, self.potential, xc,
                         self.potential.coefficients(xc, self.q if smoothed else 0))


@dataclass(frozen=True)
class PairModel:
    """A glass former instantiated for N particles in a periodic hypercube.

    name      : the ModelSpec's name
    d, N      : dimension, particle count
    L         : box side (lambda units), L = (N / density)^(1/d)
    species   : int64 (N,) type index (0 = small/A, 1 = large/B); zeros for POLY
    sizes     : float64 (N,) lambda_i for POLY; ones otherwise
    lam, eps  : float64 (2, 2) per-type lambda_ij and eps_ij (unused for POLY lambda)
    poly      : True for POLY (lambda_ij from the sizes with non-additivity ``nonadd``)
    potential : the base potential (``hpcglass.potentials.Potential``)
    xc        : cutoff in units of lambda_ij
    coeffs    : float64 (q+1,) smoothing coefficients c_0, c_2, ... (per eps), q < MAX_TERMS
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
    potential: Potential
    xc: float
    coeffs: np.ndarray

    def __post_init__(self):
        if len(self.coeffs) > MAX_TERMS:
            raise ValueError(f"at most {MAX_TERMS} smoothing coefficients, got {len(self.coeffs)}")

    @property
    def volume(self) -> float:
        return self.L**self.d

    @property
    def base(self):
        """The numba base function of the potential, the argument every kernel takes."""
        return self.potential.base

    @property
    def max_cutoff(self) -> float:
        """Largest pair cutoff x_c lambda_ij in the system."""
        if self.poly:
            return self.xc * float(self.sizes.max())
        present = np.unique(self.species)
        return self.xc * float(self.lam[np.ix_(present, present)].max())

    def with_sizes(self, sizes: np.ndarray) -> "PairModel":
        """The same model with other per-particle sizes (swap Monte Carlo)."""
        return PairModel(**{**self.__dict__, "sizes": np.ascontiguousarray(sizes, dtype=np.float64)})


def binary(N: int, n_small: int) -> tuple[np.ndarray, np.ndarray]:
    """(species, sizes) of a binary mixture: the first ``n_small`` particles species 0, then 1."""
    species = np.zeros(N, dtype=np.int64)
    species[n_small:] = 1
    return species, np.ones(N)
