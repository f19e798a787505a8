"""FIRE energy minimisation to a max-force tolerance: FIRE 2.0 (Guenole et al., Comput. Mater. Sci.
175, 109584, 2020), i.e. FIRE (Bitzek et al., PRL 97, 170201, 2006) with the velocity mixing after
the force kick, a half step back and an initial delay.  Unit masses; the force field enters as
``force(x) -> (U, F)`` (a VerletList's ``force``).  One force evaluation per step:

    P = F.v
    P > 0:  after more than n_min such steps in a row, dt <- min(f_inc dt, dt_max), alpha <- f_alpha alpha
    P <= 0: x <- x - dt v / 2, v <- 0; from step n_delay on also dt <- max(f_dec dt, dt_min) and
            alpha <- alpha_start (the force is not re-evaluated after the half step back)
    v <- v + dt F;  v <- (1 - alpha) v + alpha |v| F / |F|;  v scaled down so that dt max_ik |v_ik| <= dmax;
    x <- x + dt v

Defaults (keywords) and their source; "steps" are means over 10 KABLJ 3D N = 1000 liquids (T = 0.8)
minimised to max|F_ik| < 1e-8 unless said otherwise:
- n_min 5, f_inc 1.1, f_dec 0.5, alpha_start 0.1, f_alpha 0.99: Bitzek 2006 (docs/models.md,
  FIRE).  LAMMPS's alpha0 0.25 with delaystep 20 as n_min: 2.5-4.6x the steps (at dt_max
  7 dt0); n_min 20 alone 1.2x.
- n_delay 20, dt_min = 0.02 dt0, half step back: LAMMPS min_style fire defaults (delaystep, tmin,
  halfstepback).  Without the delay or the step back 1.2x the steps on KABLJ, 0.85-0.9x on IPL/POLY
  quenches to 1e-10: within the sample-to-sample spread.
- dmax 0.1 (LAMMPS's default; model length units), applied as a velocity cap, so no coordinate
  moves more than dmax per step.  Inactive from a liquid; from random positions (overlaps, 2D N = 1000)
  it takes FIRE 2.0 to max|F| < 1 in ~250 steps instead of 1e3-1.7e4.  (LAMMPS shrinks the step
  from the velocity before the kick: ~dmax^2 / (dt^2 max|F|) per step from overlaps, 1.4-10x the steps.)
- dt_max = 7 dt0, not the spec's / LAMMPS's 10 dt0: semi-implicit Euler is stable for omega dt < 2,
  and 2 / omega_max of our minima is 10.0 dt0 (KABLJ 3D), 11.3 (IPL 2D), 12.2 (IPL 3D), 14.8 (POLY 2D),
  12.9 (POLY 3D) at dt0 = 0.005.  Near that limit the stiffest modes keep turning P negative:
  dt_max/dt0 = 3, 4, 5, 6, 7, 8, 9, 10 took 2.4e3, 1.9e3, 1.6e3, 1.3e3, 1.3e3, 1.3e3, 6.1e3, 8.5e3
  steps.  A stiffer model or a larger dt0 needs a smaller dt_max_factor (dt_max <~ 1.6 / omega_max).

Measured, same 10 liquids: 7.7e3 steps (4.6e3-1.4e4) before (2006 scheme, dt_max 10 dt0), 1.3e3
(9.3e2-2.0e3) now; LAMMPS min_style fire with the parameters of bench/md.py (2006 values, tmax 10,
dmax 0.1): 7.5e3, with tmax 7: 1.8e3; LAMMPS defaults (FIRE 2.0, tmax 10): 1.4e4.  IPL 2D / POLY 2D /
IPL 3D N = 1000 liquids to 1e-10: 9.3e3 / 1.6e3 / 2.7e3 steps before, 1.4e3 / 1.8e3 / 1.5e3 now
(means of 3).
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
         alpha_start: float = 0.1, f_alpha: float = 0.99, dt_max_factor: float = 7.0,
         wrap: Callable | None = None, *, dt_min_factor: float = 0.02, n_delay: int = 20,
         dmax: float | None = 0.1, half_step_back: bool = True) -> FireResult:
    """Minimise the energy from x (N, d) in a periodic box of side L until max|F| < ftol.

    ``wrap(x)`` puts positions back into the box in place (default: plain periodic; Lees-Edwards
    boundaries pass their own).  ``dmax=None`` removes the displacement cap.  Raises
    MinimizationError after ``max_steps`` force evaluations.
    """
    wrap = wrap or (lambda y: np.mod(y, L, out=y))
    x = wrap(np.array(x, dtype=np.float64))
    v = np.zeros_like(x)
    U, F = force(x)
    dt, dt_max, dt_min = dt0, dt_max_factor * dt0, dt_min_factor * dt0
    alpha, n_pos = alpha_start, 0
    for step in range(1, max_steps + 1):
        fmax = float(np.abs(F).max())
        if fmax < ftol:
            return FireResult(x, U, fmax, step - 1)
        if float(np.vdot(F, v)) > 0.0:
            n_pos += 1
            if n_pos > n_min:
                dt = min(dt * f_inc, dt_max)
                alpha *= f_alpha
        else:
            n_pos = 0
            if step >= n_delay:
                dt = max(dt * f_dec, dt_min)
                alpha = alpha_start
            if half_step_back:
                x -= 0.5 * dt * v
            v[:] = 0.0
        v += dt * F
        # mixing after the kick (the identity right after v = 0, when v is parallel to F)
        fn = np.sqrt(np.vdot(F, F))
        if fn > 0.0:
            vn = np.sqrt(np.vdot(v, v))
            v *= 1.0 - alpha
            v += (alpha * vn / fn) * F
        if dmax is not None:
            vmax = float(np.abs(v).max())
            if dt * vmax > dmax:
                v *= dmax / (dt * vmax)
        x += dt * v
        wrap(x)
        U, F = force(x)
    fmax = float(np.abs(F).max())
    if fmax < ftol:
        return FireResult(x, U, fmax, max_steps)
    raise MinimizationError(fmax, max_steps, ftol)
