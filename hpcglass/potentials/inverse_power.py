"""f(x) = x^-10, the repulsive inverse power law of the IPL and POLY models.

Its smoothing has a closed form (docs/models.md, "Smoothing"; checked against the linear solve
of :func:`hpcglass.potentials.solve_smoothing` to 1e-12 in tests/test_models.py): c_2l = (-1)^(l+1) (2q + n)!! / [(2q - 2l)!! (2l)!! (n - 2)!! (n + 2l)] x_c^-(n+2l)
for n = 10, l = 0..q.
"""

from __future__ import annotations

import numba
import numpy as np

from . import Potential

EXPONENT = 10


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def base(x2):
    """(x^-10, f'/x, f'', f''') at x2 = x^2."""
    ix2 = 1.0 / x2
    x10 = ix2 * ix2
    x10 = x10 * x10 * ix2
    return x10, -10.0 * x10 * ix2, 110.0 * x10 * ix2, -1320.0 * x10 * ix2 * ix2 * np.sqrt(x2)


def _dfact(n: int) -> int:
    return 1 if n <= 0 else n * _dfact(n - 2)


def smoothing(xc: float, q: int, n: int = EXPONENT) -> np.ndarray:
    """Closed-form c_0, c_2, ..., c_2q of the smoothing polynomial of x^-n (module docstring)."""
    return np.array([(-1) ** (l + 1) / (_dfact(2 * q - 2 * l) * _dfact(2 * l))
                     * _dfact(n + 2 * q) / (_dfact(n - 2) * (n + 2 * l)) * xc ** (-(n + 2 * l))
                     for l in range(q + 1)])


IPL10 = Potential("inverse_power_10", base, smoothing)
