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

from ._petsc import default_comm, petsc


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


def hessian_csr(pairs: PairTerms, N: int) -> sp.csr_matrix:
    """Hessian as scipy.sparse CSR, (N d, N d), duplicates summed, sorted indices."""
    d = pairs.dim
    rows, cols, vals = hessian_triplets(pairs)
    n = N * d
    # Sum duplicates in order of appearance (stable sort): entries (a, b) and (b, a) then add the
    # same numbers in the same order, so the matrix is exactly (bitwise) symmetric.
    key = rows * n + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    summed = np.add.reduceat(vals[order], start) if key.size else vals[:0]
    ukey = key[start]
    r, c = ukey // n, ukey % n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    M = sp.csr_matrix((summed, c, indptr), shape=(n, n))
    M.has_sorted_indices = True
    return M


def csr_to_petsc(A: sp.csr_matrix, comm=None, block_size: int = 1, mat_type: str = "aij"):
    """PETSc Mat (AIJ, or BAIJ / SBAIJ with ``block_size``) from a scipy CSR held in full on every rank.

    Each rank inserts only the rows PETSc gives it (contiguous, whole blocks), so the same call
    works on COMM_SELF and on a group communicator.  Preallocation is exact (from the CSR).
    The caller owns the returned Mat and must ``destroy()`` it.
    """
    PETSc = petsc()
    comm = default_comm(comm)
    A = sp.csr_matrix(A)
    A.sort_indices()
    n = A.shape[0]
    bs = int(block_size)
    nb = n // bs
    size, rank = comm.getSize(), comm.getRank()
    # contiguous ownership of whole blocks
    counts = [nb // size + (1 if r < nb % size else 0) for r in range(size)]
    start = sum(counts[:rank]) * bs
    stop = start + counts[rank] * bs
    loc = A[start:stop]
    indptr = loc.indptr.astype(PETSc.IntType)
    indices = loc.indices.astype(PETSc.IntType)
    data = loc.data.astype(PETSc.ScalarType)
    sizes = ((stop - start, n), (stop - start, n))
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

    The caller owns the Mat (call ``destroy()``), or use :class:`hpcglass.harmonic.HarmonicSystem`.
    """
    return csr_to_petsc(hessian_csr(pairs, N), comm=comm, block_size=pairs.dim, mat_type=mat_type)


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
