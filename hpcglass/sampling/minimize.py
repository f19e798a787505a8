"""FIRE energy minimisation (Bitzek et al., PRL 97, 170201, 2006) to a max-force tolerance.

Standard parameters (physics_spec.md section 4): N_min = 5, f_inc = 1.1, f_dec = 0.5,
alpha_start = 0.1, f_alpha = 0.99, dt_max = 10 dt_0.  Semi-implicit Euler MD steps with unit
masses.  The force field enters as ``force(x) -> (U, F)`` (a VerletList's ``force``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


class MinimizationError(RuntimeError):
    """FIRE did not reach the tolerance; carries the final max|F| and the steps taken."""

    def __init__(self, max_force: float, steps: int, ftol: float):
        super().__init__(f"FIRE not converged: max|F| = {max_force:.3e} > ftol = {ftol:.1e} after {steps} steps")
        self.max_force = max_force
        self.steps = steps


@dataclass
class FireResult:
    """x (N, d): minimised positions (wrapped into [0, L)); U: energy; max_force: final max |F_i|
    (largest Cartesian component); steps: force evaluations."""

    x: np.ndarray
    U: float
    max_force: float
    steps: int


def fire(x: np.ndarray, L: float, force: Callable, ftol: float = 1e-10, dt0: float = 0.005,
         max_steps: int = 1_000_000, n_min: int = 5, f_inc: float = 1.1, f_dec: float = 0.5,
         alpha_start: float = 0.1, f_alpha: float = 0.99, dt_max_factor: float = 10.0,
         wrap: Callable | None = None) -> FireResult:
    """Minimise the energy from x (N, d) in a periodic box of side L until max|F| < ftol.

    ``wrap(x)`` puts positions back into the box in place (default: plain periodic; Lees-Edwards
    boundaries pass their own).  Raises MinimizationError after ``max_steps`` force evaluations.
    """
    wrap = wrap or (lambda y: np.mod(y, L, out=y))
    x = wrap(np.array(x, dtype=np.float64))
    v = np.zeros_like(x)
    U, F = force(x)
    dt, dt_max, alpha, since_neg = dt0, dt_max_factor * dt0, alpha_start, 0
    for step in range(1, max_steps + 1):
        fmax = float(np.abs(F).max())
        if fmax < ftol:
            return FireResult(x, U, fmax, step - 1)
        P = float(np.einsum("ij,ij->", F, v))
        if P > 0.0:
            vn = np.sqrt(np.einsum("ij,ij->", v, v))
            fn = np.sqrt(np.einsum("ij,ij->", F, F))
            v = (1.0 - alpha) * v + alpha * (vn / fn) * F
            since_neg += 1
            if since_neg > n_min:
                dt = min(dt * f_inc, dt_max)
                alpha *= f_alpha
        else:
            since_neg = 0
            dt *= f_dec
            alpha = alpha_start
            v[:] = 0.0
        v += dt * F
        x += dt * v
        wrap(x)
        U, F = force(x)
    fmax = float(np.abs(F).max())
    if fmax < ftol:
        return FireResult(x, U, fmax, max_steps)
    raise MinimizationError(fmax, max_steps, ftol)
