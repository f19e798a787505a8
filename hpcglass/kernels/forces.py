"""Energy, forces, virial and pair terms of a PairModel configuration, and a Verlet list."""

from __future__ import annotations

import numba
import numpy as np

from ..models import PairModel
from ..pairs import PairTerms
from .cells import candidate_pairs
from .pair import pair_params, pair_phi


@numba.njit(cache=True, nogil=True)
def _energy_forces(x, L, pi, pj, species, sizes, lam_tab, eps_tab, poly, nonadd, base, xc, coeffs, F):
    """Fill F (N, d) with the forces; return (U, virial sum of phi'(r) r) over the candidate pairs."""
    N, d = x.shape
    F[:] = 0.0
    U = 0.0
    w = 0.0
    dx = np.empty(d)
    for p in range(pi.shape[0]):
        i = pi[p]
        j = pj[p]
        lam, eps = pair_params(i, j, species, sizes, lam_tab, eps_tab, poly, nonadd)
        r2 = 0.0
        for k in range(d):
            t = x[i, k] - x[j, k]
            t -= L * np.rint(t / L)
            dx[k] = t
            r2 += t * t
        rc = xc * lam
        if r2 >= rc * rc:
            continue
        r = np.sqrt(r2)
        phi, dphi, _ = pair_phi(r, lam, eps, base, xc, coeffs)
        U += phi
        w += dphi * r
        s = -dphi / r
        for k in range(d):
            F[i, k] += s * dx[k]
            F[j, k] -= s * dx[k]
    return U, w


@numba.njit(cache=True, nogil=True)
def _pair_terms(x, L, pi, pj, species, sizes, lam_tab, eps_tab, poly, nonadd, base, xc, coeffs, keep, rij, r, d1, d2):
    N, d = x.shape
    for p in range(pi.shape[0]):
        i = pi[p]
        j = pj[p]
        lam, eps = pair_params(i, j, species, sizes, lam_tab, eps_tab, poly, nonadd)
        r2 = 0.0
        for k in range(d):
            t = x[i, k] - x[j, k]
            t -= L * np.rint(t / L)
            rij[p, k] = t
            r2 += t * t
        rp = np.sqrt(r2)
        r[p] = rp
        keep[p] = rp < xc * lam
        if keep[p]:
            _, d1[p], d2[p] = pair_phi(rp, lam, eps, base, xc, coeffs)


def _args(model: PairModel):
    return (model.species, model.sizes, model.lam, model.eps, model.poly, model.nonadd, model.base,
            model.xc, model.coeffs)


def energy_forces(x: np.ndarray, model: PairModel, pairs=None) -> tuple[float, np.ndarray, float]:
    """(U, F (N, d), virial pressure p = -sum phi' r / (d V)) of positions x (N, d).

    ``pairs`` (i, j) are candidate pairs covering every pair within its cutoff; default: a
    fresh cell-list search.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    pi, pj = pairs if pairs is not None else candidate_pairs(x, model.L, model.max_cutoff)
    F = np.empty_like(x)
    U, w = _energy_forces(x, model.L, pi, pj, *_args(model), F)
    return U, F, -w / (model.d * model.volume)


def pair_terms(x: np.ndarray, model: PairModel) -> PairTerms:
    """Interacting pairs (r < x_c lambda_ij) of positions x (N, d) with rij, r, phi', phi''."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    pi, pj = candidate_pairs(x, model.L, model.max_cutoff)
    P, d = pi.shape[0], x.shape[1]
    keep = np.empty(P, dtype=np.bool_)
    rij, r, d1, d2 = np.empty((P, d)), np.empty(P), np.zeros(P), np.zeros(P)
    _pair_terms(x, model.L, pi, pj, *_args(model), keep, rij, r, d1, d2)
    return PairTerms(pi[keep], pj[keep], rij[keep], r[keep], d1[keep], d2[keep])


class VerletList:
    """Candidate pairs within max cutoff + skin, rebuilt only when some particle has moved more
    than skin/2 since the last build (then no pair inside its cutoff can be missing)."""

    def __init__(self, model: PairModel, skin: float = 0.3):
        self.model = model
        self.skin = skin
        self.x_ref = None
        self.pairs = None
        self.builds = 0

    def __call__(self, x: np.ndarray):
        if self.x_ref is not None:
            dx = x - self.x_ref
            dx -= self.model.L * np.rint(dx / self.model.L)
            if np.einsum("ij,ij->i", dx, dx).max() < (0.5 * self.skin) ** 2:
                return self.pairs
        rc = min(self.model.max_cutoff + self.skin, 0.4999 * self.model.L)
        self.pairs = candidate_pairs(x, self.model.L, rc)
        self.x_ref = np.array(x)
        self.builds += 1
        return self.pairs

    def force(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """(U, F): the ``force`` callable used by MD and FIRE."""
        U, F, _ = energy_forces(x, self.model, self(x))
        return U, F
