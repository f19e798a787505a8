"""f(x) = 4 (x^-12 - x^-6), the Lennard-Jones potential of the Kob-Andersen mixture.

Smoothing from the exact derivatives of the two power terms (power rule), so that the
coefficients do not carry the rounding of f'''(x) evaluated through ``base``.
"""

from __future__ import annotations

import numba
import numpy as np

from . import Potential, solve_smoothing

TERMS = ((4.0, -12), (-4.0, -6))


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def base(x2):
    """(4 (x^-12 - x^-6), f'/x, f'', f''') at x2 = x^2."""
    ix2 = 1.0 / x2
    x6 = ix2 * ix2 * ix2
    x12 = x6 * x6
    ix = np.sqrt(ix2)
    return (4.0 * (x12 - x6), (-48.0 * x12 + 24.0 * x6) * ix2, (624.0 * x12 - 168.0 * x6) * ix2,
            (-8736.0 * x12 + 1344.0 * x6) * ix2 * ix)


def power_derivatives(x: float, kmax: int) -> np.ndarray:
    """d^k/dx^k of sum a x^p over TERMS at x, k = 0..kmax (float64)."""
    out = np.zeros(kmax + 1)
    for a, p in TERMS:
        coef, power = a, p
        for k in range(kmax + 1):
            out[k] += coef * x**power
            coef *= power
            power -= 1
    return out


def smoothing(xc: float, q: int) -> np.ndarray:
    """c_0 .. c_q with phi and its first q derivatives zero at xc (q = 0: a plain shift)."""
    return solve_smoothing(power_derivatives(xc, q), xc, q)


LJ = Potential("lennard_jones_12_6", base, smoothing)
