"""Lowest non-zero vibrational modes with SLEPc (docs/harmonic.md: "Zero modes", "PETSc objects and options").

Krylov-Schur with shift-and-invert at ``sigma`` (default -1e-3: M - sigma I is SPD so the
inner factorization is a Cholesky, MUMPS by default), the d translations deflated with
``EPS.setDeflationSpace``; rattlers are removed before the matrix is built.  Options prefix
``modes_`` (e.g. ``-modes_eps_tol``, ``-modes_st_pc_factor_mat_solver_type``).
Masses are 1, so eigenvalues are omega^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpcglass.pairs import PairTerms
from hpcglass.petsc_setup import default_comm, petsc, slepc

from .hessian import block_range, find_rattlers, hessian_rows, restrict_pairs, rows_to_petsc


@dataclass(frozen=True)
class ModesResult:
    """k lowest non-zero modes, ascending.

    eigenvalues : float64 (k,) lambda = omega^2 [energy / length^2 / mass]
    omega       : float64 (k,) sqrt(lambda) (nan for a negative lambda)
    participation : float64 (k,) e = (sum_i psi_i.psi_i)^2 / (N sum_i (psi_i.psi_i)^2), N = all
                  particles (rattlers carry psi = 0)
    vectors     : float64 (k, N, d) unit-norm eigenvectors (zero on rattlers), or None
    n_rattlers  : rattlers removed
    """

    eigenvalues: np.ndarray
    omega: np.ndarray
    participation: np.ndarray
    vectors: np.ndarray | None
    n_rattlers: int


def participation_ratio(psi: np.ndarray, N: int | None = None) -> np.ndarray:
    """e for modes psi of shape (N, d) or (k, N, d); N defaults to psi's particle count."""
    psi = np.asarray(psi)
    if psi.ndim == 2:
        psi = psi[None]
    n = psi.shape[1] if N is None else N
    w = np.sum(psi ** 2, axis=2)
    return np.sum(w, axis=1) ** 2 / (n * np.sum(w ** 2, axis=1))


def lowest_modes(pairs: PairTerms, N: int, k: int = 10, sigma: float = -1e-3, comm=None,
                 prefix: str = "modes_", remove_rattlers: bool = True, vectors: bool = False,
                 tol: float = 1e-10) -> ModesResult:
    """The k lowest non-zero eigenpairs of the Hessian (translations and rattlers excluded).

    Every PETSc/SLEPc object is created on ``comm`` (default COMM_SELF) and destroyed here; on a
    team each rank builds its own rows, the eigenvectors are allgathered and every rank returns
    the same result.
    """
    PETSc = petsc()
    SLEPc = slepc()
    comm = default_comm(comm)
    d = pairs.dim
    rattlers = find_rattlers(pairs, N) if remove_rattlers else np.zeros(N, dtype=bool)
    res = restrict_pairs(pairs, N, rattlers)
    na = res.active.size
    p0, p1 = block_range(na, comm.getSize(), comm.getRank())  # each rank builds only its rows
    mat = rows_to_petsc(hessian_rows(res.pairs, na, p0, p1), na * d, comm=comm, block_size=d)
    rs, re = mat.getOwnershipRange()
    defl = []
    eps = SLEPc.EPS().create(comm=comm)
    try:
        for c in range(d):
            v = mat.createVecRight()
            t = np.zeros(na * d)
            t[c::d] = 1.0 / np.sqrt(na)
            v.setArray(t[rs:re])
            defl.append(v)
        eps.setOptionsPrefix(prefix)
        eps.setOperators(mat)
        eps.setProblemType(SLEPc.EPS.ProblemType.HEP)
        eps.setType(SLEPc.EPS.Type.KRYLOVSCHUR)
        eps.setDimensions(nev=k)
        eps.setTolerances(tol=tol, max_it=1000)
        eps.setWhichEigenpairs(SLEPc.EPS.Which.TARGET_MAGNITUDE)
        eps.setTarget(sigma)
        eps.setDeflationSpace(defl)
        st = eps.getST()
        st.setType(SLEPc.ST.Type.SINVERT)
        ksp = st.getKSP()
        ksp.setType("preonly")
        pc = ksp.getPC()
        pc.setType("cholesky")
        pc.setFactorSolverType("mumps")
        eps.setFromOptions()
        eps.solve()
        nconv = eps.getConverged()
        if nconv < k:
            raise RuntimeError(f"SLEPc converged {nconv} of {k} requested eigenpairs")
        vr = mat.createVecRight()
        lam = np.empty(nconv)
        vecs = []
        for m in range(nconv):
            lam[m] = eps.getEigenpair(m, vr).real
            loc = vr.getArray().copy()
            vecs.append(loc if comm.getSize() == 1
                        else np.concatenate(comm.tompi4py().allgather(loc)))
        vr.destroy()
    finally:
        eps.destroy()
        for v in defl:
            v.destroy()
        mat.destroy()
    order = np.argsort(lam)[:k]
    lam = lam[order]
    V = np.zeros((k, N, d))
    for out, m in enumerate(order):
        psi = vecs[m].reshape(na, d)
        V[out, res.active] = psi / np.linalg.norm(psi)
    omega = np.sqrt(np.where(lam >= 0, lam, np.nan))
    return ModesResult(eigenvalues=lam, omega=omega, participation=participation_ratio(V, N),
                       vectors=V if vectors else None, n_rattlers=res.n_rattlers)
