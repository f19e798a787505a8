"""Pair potentials: each one is a module here that defines its base function once.

A :class:`Potential` is the reduced base function f(x) of a pair potential, x = r / lambda_ij,
as one numba function ``base(x2) -> (f, f'(x)/x, f''(x), f'''(x))`` of x2 = x^2, plus how its
smoothing polynomial is found.  A model (``hpcglass.models``) scales it,
phi(r) = eps_ij [f(x) + sum_l c_l x^(2l)] for x < x_c and 0 beyond, where the c_l make phi
and its first q derivatives vanish at x_c (docs/models.md, "Smoothing").  Every kernel (MD,
FIRE, swap Monte Carlo, the Hessian's pair terms, LAMMPS tables) takes ``base`` as an argument
and is specialised by numba for it, so a potential written here is used everywhere and no
kernel holds a potential of its own.  Adding one: docs/extending.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import Callable

import numpy as np

# The smoothing polynomial has at most this many terms (c_0 .. c_6 x^6, q <= 3): the kernels
# take four coefficients as scalars, zero-padded.
MAX_TERMS = 4


@dataclass(frozen=True)
class Potential:
    """A pair potential's reduced base function and its smoothing.

    name      : short identifier (stored in run files' provenance)
    base      : numba ``njit(inline="always", error_model="numpy")`` function of x2 = (r / lambda)^2 > 0 returning the
                float64 tuple (f, f'(x) / x, f''(x), f'''(x)); written in x^2 so that the MD hot
                loop needs no square root.  Kernels that use only some outputs let LLVM drop
                the rest.  error_model "numpy": the vectorised swap-MC loops evaluate it on
                entries they then discard (x2 = 0 included), where 1/0 must give inf, not raise.
    smoothing : optional closed form (xc, q) -> float64 (q + 1,) coefficients c_0, ..., c_q of
                x^0, x^2, ..., x^2q; default: :func:`solve_smoothing` from ``base``
    """

    name: str
    base: Callable
    smoothing: Callable | None = None

    def __post_init__(self):
        _stable_identity(self.base)

    def derivatives(self, x: float) -> np.ndarray:
        """f(x), f'(x), f''(x), f'''(x) at x > 0, float64 (4,)."""
        f, g, h, k = self.base(float(x) ** 2)
        return np.array([f, g * x, h, k])

    def coefficients(self, xc: float, q: int) -> np.ndarray:
        """Smoothing coefficients c_0, ..., c_q (float64 (q + 1,), q < MAX_TERMS) for cutoff xc."""
        if not 0 <= q < MAX_TERMS:
            raise ValueError(f"smoothing order q = {q} outside 0..{MAX_TERMS - 1}")
        if self.smoothing is not None:
            return np.asarray(self.smoothing(xc, q), dtype=np.float64)
        return solve_smoothing(self.derivatives(xc)[:q + 1], xc, q)


def _stable_identity(base) -> None:
    """Give the numba dispatcher ``base`` an identity that is the same in every process.

    Kernels take ``base`` as an argument, so their compiled signatures contain its dispatcher
    type, and numba's on-disk cache finds a kernel only if the dispatcher it unpickles from the
    cache index is this process's one.  numba identifies a dispatcher across pickling by a UUID,
    random per process by default; naming it after its module and qualified name makes the cache
    hit in every later process (and on every MPI rank, after rank 0's warm-up), where a random
    one would recompile every kernel in every process.
    """
    key = f"hpcglass-potential:{base.py_func.__module__}.{base.py_func.__qualname__}"
    # numba keeps the identity in _MemoMixin.__uuid; a second Potential over the same base finds it set
    if getattr(base, "_MemoMixin__uuid", None) is None:
        base._set_uuid(key)


def solve_smoothing(derivs: np.ndarray, xc: float, q: int) -> np.ndarray:
    """Solve d^k/dx^k [f + sum_l c_l x^2l](xc) = 0 for k = 0..q, given derivs[k] = f^(k)(xc)."""
    A = np.zeros((q + 1, q + 1))
    for k in range(q + 1):
        for l in range(q + 1):
            p = 2 * l
            A[k, l] = 0.0 if k > p else factorial(p) / factorial(p - k) * xc ** (p - k)
    return np.linalg.solve(A, -np.asarray(derivs, dtype=np.float64))


def padded(coeffs: np.ndarray) -> np.ndarray:
    """The coefficients zero-padded to MAX_TERMS, float64 (MAX_TERMS,): what the kernels take."""
    c = np.zeros(MAX_TERMS)
    c[:len(coeffs)] = coeffs
    return c
