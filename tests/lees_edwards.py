"""Energy and forces under simple shear with Lees-Edwards boundaries (x -> x + gamma y).

An image shifted by n_y L along y is shifted by n_y gamma L along x.  All pairs are visited
(O(N^2)): this kernel serves finite-strain checks of the moduli on small samples, not
production runs.  A test helper: the moduli checks of tests/test_shear.py use it.
"""

from __future__ import annotations

import numba
import numpy as np

from hpcglass.kernels.forces import model_args
from hpcglass.kernels.pair import pair_params, pair_phi
from hpcglass.models import PairModel


@numba.njit(cache=True, nogil=True)
def _sheared(x, L, gamma, species, sizes, lam_tab, eps_tab, poly, nonadd, base, xc, c, F):
    N, d = x.shape
    F[:] = 0.0
    U = 0.0
    sxy = 0.0
    dx = np.empty(d)
    for i in range(N):
        for j in range(i + 1, N):
            lam, eps = pair_params(i, j, species, sizes, lam_tab, eps_tab, poly, nonadd)
            ny = np.rint((x[i, 1] - x[j, 1]) / L)
            r2 = 0.0
            for k in range(d):
                t = x[i, k] - x[j, k]
                if k == 0:
                    t -= gamma * L * ny
                if k == 1:
                    t -= L * ny
                else:
                    t -= L * np.rint(t / L)
                dx[k] = t
                r2 += t * t
            rc = xc * lam
            if r2 >= rc * rc:
                continue
            r = np.sqrt(r2)
            phi, dphi, _ = pair_phi(r, lam, eps, base, xc, c[0], c[1], c[2], c[3])
            U += phi
            sxy += dphi * dx[0] * dx[1] / r
            s = -dphi / r
            for k in range(d):
                F[i, k] += s * dx[k]
                F[j, k] -= s * dx[k]
    return U, sxy


def sheared_energy_forces(x: np.ndarray, model: PairModel, gamma: float) -> tuple[float, np.ndarray, float]:
    """(U, F (N, d), sigma_xy = V^-1 sum phi' x y / r) at shear strain gamma (Lees-Edwards)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    F = np.empty_like(x)
    U, s = _sheared(x, model.L, gamma, *model_args(model), F)
    return U, F, s / model.volume


def lees_edwards_wrap(x: np.ndarray, L: float, gamma: float) -> np.ndarray:
    """Wrap positions (N, d) into the box consistently with the sheared images (in place)."""
    ny = np.floor(x[:, 1] / L)
    x[:, 0] -= ny * gamma * L
    x[:, 1] -= ny * L
    np.mod(x, L, out=x)
    return x
