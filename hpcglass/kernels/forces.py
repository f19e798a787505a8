"""Energy, forces, virial and pair terms of a PairModel configuration, and a Verlet list."""

from __future__ import annotations

import numba
import numpy as np

from ..models import PairModel
from ..potentials import padded
from ..pairs import PairTerms
from .cells import candidate_pairs, forward_stencil, neighbour_offsets, sort_into_cells, stencil_table, verlet_skin
from .pair import pair_params, pair_phi, pair_phi_force_r2


@numba.njit(cache=True, nogil=True)
def _energy_forces(x, L, pi, pj, species, sizes, lam_tab, eps_tab, poly, nonadd, base, xc, c, F):
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
        phi, dphi, _ = pair_phi(r, lam, eps, base, xc, c[0], c[1], c[2], c[3])
        U += phi
        w += dphi * r
        s = -dphi / r
        for k in range(d):
            F[i, k] += s * dx[k]
            F[j, k] -= s * dx[k]
    return U, w


@numba.njit(cache=True, nogil=True)
def _pair_terms(x, L, pi, pj, species, sizes, lam_tab, eps_tab, poly, nonadd, base, xc, c, keep, rij, r, d1, d2):
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
            _, d1[p], d2[p] = pair_phi(rp, lam, eps, base, xc, c[0], c[1], c[2], c[3])


def model_args(model: PairModel) -> tuple:
    """The model as kernel arguments: (species, sizes, lam, eps, poly, nonadd, base, xc, c) with c
    the smoothing coefficients zero-padded to four."""
    return (model.species, model.sizes, model.lam, model.eps, model.poly, model.nonadd, model.base,
            model.xc, padded(model.coeffs))


def energy_forces(x: np.ndarray, model: PairModel, pairs=None) -> tuple[float, np.ndarray, float]:
    """(U, F (N, d), virial pressure p = -sum phi' r / (d V)) of positions x (N, d).

    ``pairs`` (i, j) are candidate pairs covering every pair within its cutoff; default: a
    fresh cell-list search.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    pi, pj = pairs if pairs is not None else candidate_pairs(x, model.L, model.max_cutoff)
    F = np.empty_like(x)
    U, w = _energy_forces(x, model.L, pi, pj, *model_args(model), F)
    return U, F, -w / (model.d * model.volume)


def pair_terms(x: np.ndarray, model: PairModel) -> PairTerms:
    """Interacting pairs (r < x_c lambda_ij) of positions x (N, d) with rij, r, phi', phi''."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    pi, pj = candidate_pairs(x, model.L, model.max_cutoff)
    P, d = pi.shape[0], x.shape[1]
    keep = np.empty(P, dtype=np.bool_)
    rij, r, d1, d2 = np.empty((P, d)), np.empty(P), np.zeros(P), np.zeros(P)
    _pair_terms(x, model.L, pi, pj, *model_args(model), keep, rij, r, d1, d2)
    return PairTerms(pi[keep], pj[keep], rij[keep], r[keep], d1[keep], d2[keep])


@numba.njit(cache=True, nogil=True)
def _row_forces(x, L, rows, start, nbr, species, sizes, lam_tab, eps_tab, poly, nonadd, base, xc, c, F):
    """_energy_forces over a Verlet list in rows: particle rows[a] against nbr[start[a]:start[a+1]].

    Components are scalars (d = 2, 3 or 4) rather than a length-d buffer: numba keeps a buffer
    in memory, which made the pair loop twice as slow.
    """
    N, d = x.shape
    F[:] = 0.0
    U = 0.0
    w = 0.0
    invL = 1.0 / L
    xc2 = xc * xc
    c0, c1, c2, c3 = c[0], c[1], c[2], c[3]
    for a in range(rows.shape[0]):
        i = rows[a]
        x0 = x[i, 0]
        x1 = x[i, 1]
        x2 = x[i, 2] if d > 2 else 0.0
        x3 = x[i, 3] if d > 3 else 0.0
        f0 = f1 = f2 = f3 = 0.0
        for p in range(start[a], start[a + 1]):
            j = nbr[p]
            lam, eps = pair_params(i, j, species, sizes, lam_tab, eps_tab, poly, nonadd)
            t0 = x0 - x[j, 0]
            t0 -= L * np.rint(t0 * invL)
            t1 = x1 - x[j, 1]
            t1 -= L * np.rint(t1 * invL)
            r2 = t0 * t0 + t1 * t1
            t2 = t3 = 0.0
            if d > 2:
                t2 = x2 - x[j, 2]
                t2 -= L * np.rint(t2 * invL)
                r2 += t2 * t2
                if d > 3:
                    t3 = x3 - x[j, 3]
                    t3 -= L * np.rint(t3 * invL)
                    r2 += t3 * t3
            if r2 >= xc2 * lam * lam:
                continue
            phi, s = pair_phi_force_r2(r2, lam, eps, base, c0, c1, c2, c3)
            U += phi
            w -= s * r2
            f0 += s * t0
            f1 += s * t1
            F[j, 0] -= s * t0
            F[j, 1] -= s * t1
            if d > 2:
                f2 += s * t2
                F[j, 2] -= s * t2
                if d > 3:
                    f3 += s * t3
                    F[j, 3] -= s * t3
        F[i, 0] += f0
        F[i, 1] += f1
        if d > 2:
            F[i, 2] += f2
            if d > 3:
                F[i, 3] += f3
    return U, w


@numba.njit(cache=True, nogil=True)
def _build_rows(x, L, species, cut2, nc, ahead, n_ahead, rows, start, nbr):
    """Half Verlet list from cell lists: pairs closer than sqrt(cut2[species_i, species_j]), cells of
    side >= max cutoff / reach, (``ahead``, ``n_ahead``) = forward_stencil(stencil_table(nc, d,
    offsets in {-reach..reach}^d)), nc >= 2 reach + 1 so the offsets name distinct cells.  Rows
    follow the cell-sorted order (spatial locality for the force loop); row a lists the particles
    at sorted positions b > a within rcut, so each pair appears once and cells that sort before
    a's own are skipped whole.  Writes at most nbr.shape[0] entries and returns the total, so the
    caller can grow nbr and rebuild: no capacity guess can drop a pair.
    """
    N, d = x.shape
    ncell = nc**d
    _, order, cstart = sort_into_cells(x, L, nc)
    # sorted copy padded to 4 columns: the distance test below reads scalars, not a d-loop
    xs = np.zeros((N, 4))
    ss = np.empty(N, dtype=np.int64)
    for a in range(N):
        ss[a] = species[order[a]]
        for k in range(d):
            xs[a, k] = x[order[a], k]
    cap = nbr.shape[0]
    invL = 1.0 / L
    n = 0
    for ci in range(ncell):
        if cstart[ci] == cstart[ci + 1]:
            continue
        near = ahead[ci]
        nn = n_ahead[ci]
        for a in range(cstart[ci], cstart[ci + 1]):
            rows[a] = order[a]
            start[a] = n
            y0, y1, y2, y3 = xs[a, 0], xs[a, 1], xs[a, 2], xs[a, 3]
            rc2 = cut2[ss[a]]
            for q in range(nn):
                c = near[q]
                lo = a + 1 if c == ci else cstart[c]
                for b in range(lo, cstart[c + 1]):
                    t = y0 - xs[b, 0]
                    t -= L * np.rint(t * invL)
                    r2 = t * t
                    t = y1 - xs[b, 1]
                    t -= L * np.rint(t * invL)
                    r2 += t * t
                    if d > 2:
                        t = y2 - xs[b, 2]
                        t -= L * np.rint(t * invL)
                        r2 += t * t
                        if d > 3:
                            t = y3 - xs[b, 3]
                            t -= L * np.rint(t * invL)
                            r2 += t * t
                    # store always, advance on a hit: no unpredictable branch
                    if n < cap:
                        nbr[n] = order[b]
                    n += r2 < rc2[ss[b]]
    start[N] = n
    return n


class VerletList:
    """Candidate pairs within their cutoff + skin, rebuilt only when some particle has moved more
    than skin/2 since the last build (then no pair inside its cutoff can be missing).

    ``skin`` is the skin the box allows (``verlet_skin``): in a small box the list radius
    max cutoff + skin stays below L/2, and rebuilds come after half of that smaller skin.

    Stored as rows (CSR): particle ``rows[a]`` with ``nbr[start[a]:start[a+1]]``.
    """

    def __init__(self, model: PairModel, skin: float = 0.3):
        self.model = model
        self.skin = verlet_skin(model.L, model.max_cutoff, skin)
        self.x_ref = None
        self.rows = self.start = self.nbr = None
        self.builds = 0
        # ((nc, reach), forward_stencil) of the last build, kept: the cell grid is fixed with the box
        self._stencil = (None, None)
        if not 2 <= model.d <= 4:
            raise ValueError("VerletList supports d = 2..4")
        self._args = model_args(model)

    def update(self, x: np.ndarray) -> None:
        """Rebuild the list if some particle moved more than skin/2 since the last build."""
        L = self.model.L
        if self.x_ref is not None:
            dx = x - self.x_ref
            dx -= L * np.rint(dx / L)
            if np.einsum("ij,ij->i", dx, dx).max() < (0.5 * self.skin) ** 2:
                return
        m = self.model
        rc = m.max_cutoff + self.skin
        # per species pair x_c lam_ij + skin (as LAMMPS): a pair beyond it cannot come inside its
        # cutoff before some particle has moved skin/2; POLY (one species) keeps the max cutoff
        cut2 = np.minimum(m.xc * m.lam + self.skin, rc) ** 2 if not m.poly else np.full((1, 1), rc * rc)
        xw = np.mod(np.ascontiguousarray(x, dtype=np.float64), L)
        N, d = xw.shape
        # cells of side >= rc/2 with a 5^d stencil test ~2.5x fewer candidates than side >= rc
        reach = 2 if int(L / (0.5 * rc)) >= 5 else 1
        nc = int(L / (rc / reach))
        if nc >= 2 * reach + 1:
            if self._stencil[0] != (nc, reach):
                self._stencil = ((nc, reach), forward_stencil(stencil_table(nc, d, neighbour_offsets(d, reach))))
            ahead, n_ahead = self._stencil[1]
            rows, start = np.empty(N, dtype=np.int64), np.empty(N + 1, dtype=np.int64)
            cap = 0 if self.nbr is None else int(1.2 * self.nbr.shape[0])
            nbr = np.empty(cap, dtype=np.int64)
            n = _build_rows(xw, L, m.species, cut2, nc, ahead, n_ahead, rows, start, nbr)
            if n > cap:
                nbr = np.empty(int(1.2 * n), dtype=np.int64)
                _build_rows(xw, L, m.species, cut2, nc, ahead, n_ahead, rows, start, nbr)
            self.rows, self.start, self.nbr = rows, start, nbr[:n]
        else:
            pi, pj = candidate_pairs(xw, L, rc)
            self.rows, self.start, self.nbr = pi, np.arange(pi.shape[0] + 1), pj
        self.x_ref = np.array(x)
        self.builds += 1

    def force(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """(U, F): the ``force`` callable used by MD and FIRE."""
        self.update(x)
        x = np.ascontiguousarray(x, dtype=np.float64)
        F = np.empty_like(x)
        U, _ = _row_forces(x, self.model.L, self.rows, self.start, self.nbr, *self._args, F)
        return U, F
