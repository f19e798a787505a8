"""Hessian of a pair potential in a periodic box: triplets (numba), scipy CSR, PETSc Mat.

Conventions (the paper's Sec. II and docs/harmonic.md):

* Degrees of freedom are ordered particle-major: dof = d * particle + component, so the
  Hessian of N particles in d dimensions is (N d, N d) with d x d blocks.
* For each interacting pair (i, j), r_ij = x_i - x_j, n = r_ij / r, the pair stiffness is
  K = phi'' n n^T + (phi'/r)(I - n n^T)  [energy / length^2]
  and enters as M_ij = M_ji = -K, M_ii += K, M_jj += K.  Masses are 1, so M is also the
  dynamical matrix and its eigenvalues are omega^2.
* M is symmetric and every block row sums to zero: the d uniform translations are zero modes.

Rattlers (particles with fewer than d+1 contacts, found iteratively) add further zero modes in
purely repulsive packings; :func:`find_rattlers` finds them and :func:`restrict_pairs` removes
them from the pair list (with a particle renumbering) before anything is factored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

from hpcglass.pairs import PairTerms
from hpcglass.petsc_setup import default_comm, petsc


@numba.njit(cache=True)
def _pair_blocks(rij, r, dphi, d2phi):
    """Per-pair stiffness blocks K (P, d, d)."""
    P, d = rij.shape
    K = np.empty((P, d, d))
    for p in range(P):
        inv_r = 1.0 / r[p]
        a = d2phi[p]
        b = dphi[p] * inv_r
        for s in range(d):
            ns = rij[p, s] * inv_r
            for t in range(d):
                nt = rij[p, t] * inv_r
                v = (a - b) * (ns * nt)  # ns*nt first: the block is exactly symmetric
                if s == t:
                    v += b
                K[p, s, t] = v
    return K


@numba.njit(cache=True)
def _triplets_kernel(i, j, rij, r, dphi, d2phi):
    P, d = rij.shape
    K = _pair_blocks(rij, r, dphi, d2phi)
    n = 4 * P * d * d
    rows = np.empty(n, np.int64)
    cols = np.empty(n, np.int64)
    vals = np.empty(n, np.float64)
    k = 0
    for p in range(P):
        a = i[p] * d
        b = j[p] * d
        for s in range(d):
            for t in range(d):
                v = K[p, s, t]
                rows[k] = a + s; cols[k] = a + t; vals[k] = v; k += 1
                rows[k] = b + s; cols[k] = b + t; vals[k] = v; k += 1
                rows[k] = a + s; cols[k] = b + t; vals[k] = -v; k += 1
                rows[k] = b + s; cols[k] = a + t; vals[k] = -v; k += 1
    return rows, cols, vals


@numba.njit(cache=True)
def _row_triplets_kernel(i, j, rij, r, dphi, d2phi, lo, hi):
    """The triplets of _triplets_kernel whose row particle is in [lo, hi), in the same order."""
    P, d = rij.shape
    K = _pair_blocks(rij, r, dphi, d2phi)
    n = 0
    for p in range(P):
        n += 2 * d * d * ((lo <= i[p] < hi) + (lo <= j[p] < hi))
    rows = np.empty(n, np.int64)
    cols = np.empty(n, np.int64)
    vals = np.empty(n, np.float64)
    k = 0
    for p in range(P):
        ia = lo <= i[p] < hi
        jb = lo <= j[p] < hi
        a = i[p] * d
        b = j[p] * d
        for s in range(d):
            for t in range(d):
                v = K[p, s, t]
                if ia:
                    rows[k] = a + s; cols[k] = a + t; vals[k] = v; k += 1
                if jb:
                    rows[k] = b + s; cols[k] = b + t; vals[k] = v; k += 1
                if ia:
                    rows[k] = a + s; cols[k] = b + t; vals[k] = -v; k += 1
                if jb:
                    rows[k] = b + s; cols[k] = a + t; vals[k] = -v; k += 1
    return rows, cols, vals


def pair_stiffness(pairs: PairTerms) -> np.ndarray:
    """Pair stiffness blocks K_ij, float64 (P, d, d) [energy / length^2]."""
    return _pair_blocks(np.ascontiguousarray(pairs.rij, dtype=np.float64),
                        np.ascontiguousarray(pairs.r, dtype=np.float64),
                        np.ascontiguousarray(pairs.dphi, dtype=np.float64),
                        np.ascontiguousarray(pairs.d2phi, dtype=np.float64))


def hessian_triplets(pairs: PairTerms):
    """COO triplets (rows int64, cols int64, vals float64), each of length 4 P d^2.

    Duplicates are not summed (the diagonal blocks of a particle appear once per contact);
    every consumer sums them (scipy ``coo -> csr``).
    """
    return _triplets_kernel(np.ascontiguousarray(pairs.i, dtype=np.int64),
                            np.ascontiguousarray(pairs.j, dtype=np.int64),
                            np.ascontiguousarray(pairs.rij, dtype=np.float64),
                            np.ascontiguousarray(pairs.r, dtype=np.float64),
                            np.ascontiguousarray(pairs.dphi, dtype=np.float64),
                            np.ascontiguousarray(pairs.d2phi, dtype=np.float64))


def _sum_duplicates(rows, cols, vals, nrows: int, ncols: int) -> sp.csr_matrix:
    """CSR (nrows, ncols) from triplets, duplicates summed in order of appearance, sorted indices.

    The stable sort makes entries (a, b) and (b, a) add the same numbers in the same order, so a
    symmetric triplet list gives an exactly (bitwise) symmetric matrix; a subset of rows summed
    here equals the same rows of the whole matrix bitwise when its triplets keep their order.
    """
    key = rows * ncols + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    summed = np.add.reduceat(vals[order], start) if key.size else vals[:0]
    ukey = key[start]
    r, c = ukey // ncols, ukey % ncols
    indptr = np.zeros(nrows + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=nrows), out=indptr[1:])
    M = sp.csr_matrix((summed, c, indptr), shape=(nrows, ncols))
    M.has_sorted_indices = True
    return M


def hessian_csr(pairs: PairTerms, N: int) -> sp.csr_matrix:
    """Hessian as scipy.sparse CSR, (N d, N d), duplicates summed, sorted indices."""
    rows, cols, vals = hessian_triplets(pairs)
    n = N * pairs.dim
    return _sum_duplicates(rows, cols, vals, n, n)


def block_range(n_blocks: int, size: int, rank: int) -> tuple[int, int]:
    """Contiguous [start, stop) of whole blocks (particles) owned by ``rank`` of ``size``.

    The first n_blocks % size ranks get one block more; PETSc's own split of a Mat created with
    these local sizes is the same, so every rank builds exactly the rows it inserts.
    """
    counts = [n_blocks // size + (1 if r < n_blocks % size else 0) for r in range(size)]
    start = sum(counts[:rank])
    return start, start + counts[rank]


def hessian_rows(pairs: PairTerms, N: int, start: int, stop: int) -> sp.csr_matrix:
    """Rows of particles start..stop-1 of the Hessian: CSR ((stop-start) d, N d).

    Only the pairs touching those particles are visited and only their triplets in those rows
    are made (in the order :func:`hessian_triplets` makes them), so the rows are bitwise equal to
    the same rows of :func:`hessian_csr` while no rank holds the whole triplet list.
    """
    d = pairs.dim
    i = np.ascontiguousarray(pairs.i, dtype=np.int64)
    j = np.ascontiguousarray(pairs.j, dtype=np.int64)
    sel = np.flatnonzero(((i >= start) & (i < stop)) | ((j >= start) & (j < stop)))
    rows, cols, vals = _row_triplets_kernel(
        i[sel], j[sel], np.ascontiguousarray(pairs.rij[sel], dtype=np.float64),
        np.ascontiguousarray(pairs.r[sel], dtype=np.float64),
        np.ascontiguousarray(pairs.dphi[sel], dtype=np.float64),
        np.ascontiguousarray(pairs.d2phi[sel], dtype=np.float64), int(start), int(stop))
    return _sum_duplicates(rows - start * d, cols, vals, (stop - start) * d, N * d)


def hessian_diagonal(pairs: PairTerms, N: int) -> np.ndarray:
    """Diagonal of the Hessian, float64 (N d,), bitwise equal to ``hessian_csr(pairs, N).diagonal()``
    (the same numbers summed in the same order) without building the matrix."""
    d = pairs.dim
    K = pair_stiffness(pairs)
    kd = np.diagonal(K, axis1=1, axis2=2)  # (P, d): K[p, s, s]
    comp = np.arange(d)
    # for each pair and component, the i-row entry comes before the j-row entry
    rows = np.stack([pairs.i[:, None] * d + comp, pairs.j[:, None] * d + comp], axis=2).ravel()
    vals = np.stack([kd, kd], axis=2).ravel()
    n = N * d
    return np.asarray(_sum_duplicates(rows.astype(np.int64), rows.astype(np.int64), vals, n, n).diagonal())


def rows_to_petsc(loc: sp.csr_matrix, n: int, comm=None, block_size: int = 1, mat_type: str = "aij"):
    """PETSc Mat (n, n) on ``comm`` from this rank's own rows ``loc`` (CSR (n_local, n)).

    ``loc`` must be the rows :func:`block_range` gives this rank (whole blocks of ``block_size``);
    every rank passes its own, so no rank holds the whole matrix.  Preallocation is exact.
    The matrix is marked symmetric; ``mat_type="sbaij"`` keeps the upper block triangle only.
    The caller owns the returned Mat and must ``destroy()`` it.
    """
    PETSc = petsc()
    comm = default_comm(comm)
    loc = sp.csr_matrix(loc)
    loc.sort_indices()
    bs = int(block_size)
    nloc = loc.shape[0]
    indptr = loc.indptr.astype(PETSc.IntType)
    indices = loc.indices.astype(PETSc.IntType)
    data = loc.data.astype(PETSc.ScalarType)
    sizes = ((nloc, n), (nloc, n))
    mat = PETSc.Mat()
    kind = mat_type.lower().replace("seq", "").replace("mpi", "")
    if kind not in ("aij", "baij", "sbaij"):
        raise ValueError(f"mat_type must be aij, baij or sbaij, got {mat_type!r}")
    if kind in ("baij", "sbaij") and bs > 1:
        B = sp.bsr_matrix(loc, blocksize=(bs, bs))
        B.sort_indices()
        mat.createBAIJ(sizes, bs, csr=(B.indptr.astype(PETSc.IntType), B.indices.astype(PETSc.IntType),
                                       B.data.astype(PETSc.ScalarType).ravel()), comm=comm)
    else:
        mat.createAIJ(sizes, bsize=bs if bs > 1 else None, csr=(indptr, indices, data), comm=comm)
    mat.setOption(PETSc.Mat.Option.SYMMETRIC, True)
    mat.setOption(PETSc.Mat.Option.SYMMETRY_ETERNAL, True)
    mat.assemble()
    if kind == "sbaij":  # upper block triangle only (what MUMPS/PETSc Cholesky want for blocks)
        mat.convert("sbaij")  # petsc4py converts in place when no `out` is given
        mat.setOption(PETSc.Mat.Option.SYMMETRIC, True)
        mat.setOption(PETSc.Mat.Option.SYMMETRY_ETERNAL, True)
    return mat


def hessian_petsc(pairs: PairTerms, N: int, comm=None, mat_type: str = "aij"):
    """Hessian as a PETSc Mat (AIJ or BAIJ, block size d) on ``comm`` (default COMM_SELF).

    Each rank computes and inserts only its own rows (:func:`hessian_rows`).
    The caller owns the Mat (call ``destroy()``), or use :class:`hpcglass.harmonic.HarmonicSystem`.
    """
    comm = default_comm(comm)
    start, stop = block_range(N, comm.getSize(), comm.getRank())
    return rows_to_petsc(hessian_rows(pairs, N, start, stop), N * pairs.dim, comm=comm,
                         block_size=pairs.dim, mat_type=mat_type)


# ----------------------------------------------------------------------------------------------
# rattlers


def find_rattlers(pairs: PairTerms, N: int, min_contacts: int | None = None,
                  max_iter: int = 1000) -> np.ndarray:
    """Boolean mask (N,) of rattlers: particles left with fewer than ``min_contacts`` (default d+1)
    interacting contacts after iteratively removing rattlers and recounting.

    A contact is any listed pair (r < cutoff) with a non-zero pair force or stiffness.
    """
    d = pairs.dim
    zmin = d + 1 if min_contacts is None else int(min_contacts)
    active_pair = (pairs.dphi != 0.0) | (pairs.d2phi != 0.0)
    i, j = pairs.i[active_pair], pairs.j[active_pair]
    rattler = np.zeros(N, dtype=bool)
    for _ in range(max_iter):
        live = ~(rattler[i] | rattler[j])
        z = np.bincount(i[live], minlength=N) + np.bincount(j[live], minlength=N)
        new = (z < zmin) & ~rattler
        if not new.any():
            break
        rattler |= new
    return rattler


@dataclass(frozen=True)
class Restriction:
    """Pairs restricted to the non-rattler particles, with the renumbering.

    pairs       : PairTerms on the active particles (indices 0..n_active-1)
    active      : int64 (n_active,) original index of each active particle
    pair_index  : int64 (P_active,) index of each kept pair in the original PairTerms
    n_rattlers  : number of removed particles
    """

    pairs: PairTerms
    active: np.ndarray
    pair_index: np.ndarray
    n_rattlers: int


def restrict_pairs(pairs: PairTerms, N: int, rattlers: np.ndarray | None = None) -> Restriction:
    """Drop rattlers (and every pair touching one) and renumber the remaining particles."""
    if rattlers is None:
        rattlers = np.zeros(N, dtype=bool)
    rattlers = np.asarray(rattlers, dtype=bool)
    active = np.flatnonzero(~rattlers).astype(np.int64)
    new_index = -np.ones(N, dtype=np.int64)
    new_index[active] = np.arange(active.size)
    keep = ~(rattlers[pairs.i] | rattlers[pairs.j])
    idx = np.flatnonzero(keep).astype(np.int64)
    sub = PairTerms(i=new_index[pairs.i[idx]], j=new_index[pairs.j[idx]], rij=pairs.rij[idx],
                    r=pairs.r[idx], dphi=pairs.dphi[idx], d2phi=pairs.d2phi[idx])
    return Restriction(pairs=sub, active=active, pair_index=idx, n_rattlers=int(rattlers.sum()))
