"""NVT molecular dynamics and the continuous quench.

Velocity Verlet with the stochastic velocity-rescaling thermostat of Bussi, Donadio and
Parrinello (J. Chem. Phys. 126, 014101, 2007): after every step the kinetic energy K is drawn
anew from its canonical dynamics with relaxation time ``tau_T``, so the sampled ensemble is
exactly canonical (unlike Berendsen's) while velocities are only rescaled globally (no
per-particle noise, so dynamics stay close to Newtonian for tau_T >> dt).  The continuous
quench is the same integrator with a target temperature that falls linearly in time.

Masses are 1 (docs/models.md, units); units are the model units (epsilon, lambda, tau).
The force field enters as a callable ``force(x) -> (U, F)`` with x (N, d) positions inside the
periodic box, U the potential energy and F (N, d) the forces, so this module does not depend on
how neighbours are found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

ForceFn = Callable[[np.ndarray], "tuple[float, np.ndarray]"]


@dataclass
class MDResult:
    """Final state and running averages of one MD segment.

    x, v (N, d): final positions (wrapped into [0, L)) and velocities; U: final potential energy;
    T_mean: mean kinetic temperature over the steps; U_mean: mean potential energy per particle;
    steps: steps taken.
    """

    x: np.ndarray
    v: np.ndarray
    U: float
    T_mean: float
    U_mean: float
    steps: int


def default_dt(T: float) -> float:
    """Time step of the Lerner-group IPL runs (docs/inputs.md, `dt`): 0.005 below T = 1, else 0.0025."""
    return 0.0025 if T >= 1.0 else 0.005


def maxwell_velocities(N: int, d: int, T: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian velocities (N, d) at temperature T with zero total momentum."""
    v = rng.normal(0.0, np.sqrt(T), size=(N, d))
    return v - v.mean(axis=0)


def bussi_factor(K: float, K_target: float, n_dof: int, c: float, rng: np.random.Generator) -> float:
    """Velocity scale factor of one stochastic-rescaling step (Bussi et al. 2007, Eq. A7).

    K: current kinetic energy; K_target = n_dof T / 2; c = exp(-dt/tau_T).
    """
    r1 = rng.standard_normal()
    # sum of n_dof - 1 squared standard normals, drawn as a chi-square
    s = 2.0 * rng.standard_gamma(0.5 * (n_dof - 1)) if n_dof > 1 else 0.0
    q = K_target / (n_dof * K)
    alpha2 = c + (1.0 - c) * q * (r1 * r1 + s) + 2.0 * r1 * np.sqrt(c * (1.0 - c) * q)
    sign = np.sign(r1 + np.sqrt(c / ((1.0 - c) * q))) if c < 1.0 else 1.0
    return float(sign * np.sqrt(max(alpha2, 0.0)))


def run_nvt(x: np.ndarray, v: np.ndarray, L: float, force: ForceFn, dt: float, n_steps: int,
            T: float | Callable[[float], float], rng: np.random.Generator, tau_T: float = 0.5,
            thermostat: bool = True) -> MDResult:
    """Integrate ``n_steps`` of velocity Verlet in a periodic hypercube of side L.

    T is a temperature or a function of the elapsed time t (tau) for the continuous quench.
    ``thermostat=False`` gives NVE (used to check energy conservation).  The number of degrees
    of freedom is d (N - 1): total momentum is conserved and starts at zero.
    """
    x = np.mod(np.array(x, dtype=np.float64), L)
    v = np.array(v, dtype=np.float64)
    N, d = x.shape
    n_dof = d * (N - 1)
    c = np.exp(-dt / tau_T)
    T_of = T if callable(T) else (lambda _t, T0=float(T): T0)
    U, F = force(x)
    T_sum = U_sum = 0.0
    for step in range(n_steps):
        v += 0.5 * dt * F
        x += dt * v
        np.mod(x, L, out=x)
        U, F = force(x)
        v += 0.5 * dt * F
        K = 0.5 * float(np.einsum("ij,ij->", v, v))
        if thermostat:
            T_now = T_of((step + 1) * dt)
            if T_now > 0.0 and K > 0.0:
                alpha = bussi_factor(K, 0.5 * n_dof * T_now, n_dof, c, rng)
                v *= alpha
                K *= alpha * alpha
            elif T_now <= 0.0:
                v[:] = 0.0
                K = 0.0
        T_sum += 2.0 * K / n_dof
        U_sum += U / N
    steps = max(n_steps, 1)
    return MDResult(x, v, float(U), T_sum / steps, U_sum / steps, n_steps)


def linear_quench(T_start: float, rate: float) -> Callable[[float], float]:
    """T(t) = max(T_start - rate t, 0): the continuous quench of the paper (rate 1e-3 from T_p)."""
    return lambda t: max(T_start - rate * t, 0.0)
