"""One sample's harmonic system: owns every PETSc object (Mat, KSP, null space) and destroys them.

Zero modes (docs/harmonic.md, "Zero modes"):

* Rattlers (fewer than d+1 contacts, iteratively) are removed from the system before anything is
  built; their count is in ``n_rattlers`` and their response is reported as zero.
* The d uniform translations are removed by **pinning** (``method="direct"``, the default): the d
  rows and columns of one non-rattler particle (the one with most contacts) are dropped, the
  remaining SPD matrix is factored once (Cholesky, MUMPS by default; any PETSc factor package
  through options with the prefix, e.g. ``-dipole_pc_factor_mat_solver_type cholmod``), the pinned
  particle is put back with z = 0 and the mean displacement per Cartesian component is subtracted.
  For a right-hand side orthogonal to translations (every force dipole and the shear vector Xi)
  this is exactly the pseudo-inverse solution M^+ b.
* ``method="iterative"``: CG on the full (singular) matrix with the translation null space
  attached (MatNullSpace), preconditioner from options (default GAMG with the translations as
  near-null space).  For systems too large to factor.

Every PETSc object lives on the ``comm`` given (default PETSc.COMM_SELF).  On a team
communicator the pair list, the rattlers and the pinning are replicated (cheap), while each rank
builds only its own rows of the matrix (:func:`hpcglass.harmonic.hessian.hessian_rows`) and MUMPS
factors in distributed memory; solutions are allgathered, so every rank returns the same numbers.
Use as a context manager, or call :meth:`close`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hpcglass.pairs import PairTerms
from hpcglass.petsc_setup import default_comm, petsc

from .hessian import block_range, find_rattlers, hessian_csr, hessian_rows, restrict_pairs, rows_to_petsc


class HarmonicSystem:
    """Hessian of one configuration plus a reusable solver for M^+ b.

    Parameters
    ----------
    pairs : PairTerms of the configuration (all interacting pairs, i < j)
    N : number of particles
    V : box volume L^d [length^d]
    comm : PETSc communicator (default PETSc.COMM_SELF); the pair list is replicated on every rank
    prefix : PETSc options prefix of the solver (default ``"dipole_"``)
    method : ``"direct"`` (pin + Cholesky, factor once) or ``"iterative"`` (CG + null space)
    remove_rattlers : detect and remove rattlers (default True)
    mat_type : ``"aij"`` (default) or ``"baij"``/``"sbaij"`` (block size d; the pinned matrix of
        the direct path is then SBAIJ, since MUMPS Cholesky does not take BAIJ)
    spd : mark the pinned matrix SPD (MUMPS then uses its SPD Cholesky, sym=1); set False for
        matrices that may be indefinite (non-minimized configurations), MUMPS then uses LDL^T.
    rtol : relative tolerance of the iterative path
    tether : add ``tether * I`` to M (zero-mode option (c) of the spec, ~1e-10). Off by default;
        meant for benchmarks on configurations that are not exact energy minima.  Pinning and
        the mean removal are still applied, so the result is that of the tethered matrix.

    Attributes (after construction)
    -------------------------------
    d, N, V, n_active, n_rattlers, rattlers (bool (N,)), active (int64 (n_active,)),
    restriction (:class:`hpcglass.harmonic.hessian.Restriction`), pinned (active-numbering index),
    M_csr (property: scipy CSR of the whole active system, (n_active d, n_active d), built on first
    use on this rank; for tests and small systems, the solver paths never build it),
    M_local (property: this rank's rows of it, those of :meth:`row_range`).
    """

    def __init__(self, pairs: PairTerms, N: int, V: float, comm=None, prefix: str = "dipole_",
                 method: str = "direct", remove_rattlers: bool = True, mat_type: str = "aij",
                 spd: bool = True, rtol: float = 1e-12, tether: float = 0.0):
        if method not in ("direct", "iterative"):
            raise ValueError(f"method must be 'direct' or 'iterative', got {method!r}")
        self.PETSc = petsc()
        self.comm = default_comm(comm)
        self.prefix = prefix
        self.method = method
        self.mat_type = mat_type
        self.spd = spd
        self.rtol = rtol
        self.pairs_full = pairs
        self.N = int(N)
        self.V = float(V)
        self.d = pairs.dim
        self.rattlers = find_rattlers(pairs, N) if remove_rattlers else np.zeros(N, dtype=bool)
        self.restriction = restrict_pairs(pairs, N, self.rattlers)
        self.active = self.restriction.active
        self.n_active = int(self.active.size)
        self.n_rattlers = self.restriction.n_rattlers
        if self.n_active < 2:
            raise ValueError("fewer than two non-rattler particles: nothing to solve")
        self.tether = float(tether)
        self._M_csr = None
        self._M_local = None
        z = np.bincount(self.restriction.pairs.i, minlength=self.n_active) + \
            np.bincount(self.restriction.pairs.j, minlength=self.n_active)
        self.pinned = int(np.argmax(z))
        nd = self.n_active * self.d
        pin_dofs = np.arange(self.pinned * self.d, (self.pinned + 1) * self.d)
        self.keep = np.setdiff1d(np.arange(nd), pin_dofs)
        self._mat = None
        self._ksp = None
        self._nullsp = None
        self._factored = False
        self.timings = {}

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        """Destroy the PETSc objects (idempotent)."""
        for name in ("_ksp", "_nullsp", "_mat"):
            obj = getattr(self, name, None)
            if obj is not None:
                obj.destroy()
                setattr(self, name, None)
        self._factored = False

    def __del__(self):  # safety net; explicit close() is the rule
        try:
            self.close()
        except Exception:
            pass

    # -- helpers -----------------------------------------------------------------------------
    def translations(self) -> np.ndarray:
        """Orthonormal translation modes of the active system, (n_active d, d)."""
        T = np.zeros((self.n_active * self.d, self.d))
        for c in range(self.d):
            T[c::self.d, c] = 1.0 / np.sqrt(self.n_active)
        return T

    def project(self, Z: np.ndarray) -> np.ndarray:
        """Remove the mean displacement per Cartesian component; Z is (n_active d,) or (n_active d, k)."""
        shape = Z.shape
        Zr = Z.reshape(self.n_active, self.d, -1)
        Zr = Zr - Zr.mean(axis=0, keepdims=True)
        return Zr.reshape(shape)

    def to_active(self, x_full: np.ndarray) -> np.ndarray:
        """Full (N d, ...) field -> active (n_active d, ...) field."""
        x = np.asarray(x_full).reshape(self.N, self.d, -1)[self.active]
        return x.reshape((self.n_active * self.d,) + np.asarray(x_full).shape[1:])

    def to_full(self, x_active: np.ndarray) -> np.ndarray:
        """Active (n_active d, ...) field -> full (N d, ...) field, zero on rattlers."""
        x_active = np.asarray(x_active)
        tail = x_active.shape[1:]
        out = np.zeros((self.N, self.d) + tail)
        out[self.active] = x_active.reshape((self.n_active, self.d) + tail)
        return out.reshape((self.N * self.d,) + tail)

    def _ownership(self, n: int):
        """[start, stop) of this rank's rows of an n-row operator (whole d-blocks)."""
        start, stop = block_range(n // self.d, self.comm.getSize(), self.comm.getRank())
        return start * self.d, stop * self.d

    def _with_tether(self, rows: sp.csr_matrix, first_row: int) -> sp.csr_matrix:
        if not self.tether:
            return rows
        eye = sp.eye(rows.shape[0], rows.shape[1], k=first_row, format="csr")
        out = (rows + self.tether * eye).tocsr()
        out.sort_indices()
        return out

    def row_range(self) -> tuple[int, int]:
        """[start, stop) active particles whose rows of the (unpinned) active matrix this rank owns."""
        return block_range(self.n_active, self.comm.getSize(), self.comm.getRank())

    @property
    def M_local(self) -> sp.csr_matrix:
        """This rank's rows of the active matrix (tether included): CSR ((stop-start) d, n_active d)."""
        if self._M_local is None:
            p0, p1 = self.row_range()
            self._M_local = self._with_tether(hessian_rows(self.restriction.pairs, self.n_active, p0, p1),
                                              p0 * self.d)
        return self._M_local

    @property
    def M_csr(self) -> sp.csr_matrix:
        """The whole active matrix on this rank (tether included); built on first use."""
        if self._M_csr is None:
            if self.comm.getSize() == 1:
                self._M_csr = self.M_local
            else:
                self._M_csr = self._with_tether(hessian_csr(self.restriction.pairs, self.n_active), 0)
        return self._M_csr

    def _pinned_rows(self) -> sp.csr_matrix:
        """This rank's rows of the pinned matrix (pinned particle's d rows and columns dropped)."""
        k0, k1 = block_range(self.n_active - 1, self.comm.getSize(), self.comm.getRank())
        # pinned-matrix block k is active particle k + (k >= pinned)
        p0 = k0 + (k0 >= self.pinned)
        p1 = max(p0, k1 + (k1 > self.pinned))
        d = self.d
        rows = self._with_tether(hessian_rows(self.restriction.pairs, self.n_active, p0, p1), p0 * d)
        if p0 <= self.pinned < p1:
            keep_rows = np.setdiff1d(np.arange(rows.shape[0]), np.arange(d) + (self.pinned - p0) * d)
            rows = rows[keep_rows]
        return rows[:, self.keep]

    # -- setup -------------------------------------------------------------------------------
    def setup(self) -> None:
        """Build the Mat and KSP and factor (direct) / set up the preconditioner (iterative)."""
        if self._factored:
            return
        import time

        PETSc = self.PETSc
        t0 = time.perf_counter()
        if self.method == "direct":
            # MUMPS Cholesky takes AIJ or SBAIJ, not BAIJ: a block format means SBAIJ here.
            mt = "sbaij" if self.mat_type.lower().endswith("baij") else self.mat_type
            self._mat = rows_to_petsc(self._pinned_rows(), self.keep.size, comm=self.comm,
                                      block_size=self.d, mat_type=mt)
            if self.spd:
                self._mat.setOption(PETSc.Mat.Option.SPD, True)
            ksp = PETSc.KSP().create(comm=self.comm)
            ksp.setOptionsPrefix(self.prefix)
            ksp.setOperators(self._mat)
            ksp.setType("preonly")
            pc = ksp.getPC()
            pc.setType("cholesky")
            pc.setFactorSolverType("mumps")
        else:
            self._mat = rows_to_petsc(self.M_local, self.n_active * self.d, comm=self.comm,
                                      block_size=self.d, mat_type=self.mat_type)
            vecs = []
            rs, re = self._ownership(self.n_active * self.d)
            T = self.translations()
            for c in range(self.d):
                v = self._mat.createVecRight()
                v.setArray(T[rs:re, c].copy())
                vecs.append(v)
            self._nullsp = PETSc.NullSpace().create(constant=False, vectors=vecs, comm=self.comm)
            self._mat.setNullSpace(self._nullsp)
            self._mat.setNearNullSpace(self._nullsp)
            for v in vecs:
                v.destroy()
            ksp = PETSc.KSP().create(comm=self.comm)
            ksp.setOptionsPrefix(self.prefix)
            ksp.setOperators(self._mat)
            ksp.setType("cg")
            ksp.getPC().setType("gamg")
            ksp.setTolerances(rtol=self.rtol, atol=0.0, max_it=100000)
        ksp.setFromOptions()
        ksp.setUp()
        self._ksp = ksp
        self._factored = True
        self.timings["setup"] = time.perf_counter() - t0

    # -- solves ------------------------------------------------------------------------------
    def solve(self, B: np.ndarray, block: int = 256) -> np.ndarray:
        """Z = M^+ B for B orthogonal to translations.

        B : float64 (n_active d,) or (n_active d, k), in the active (rattler-free) numbering.
        Returns Z of the same shape with zero mean displacement per Cartesian component
        [length / (energy/length^2) times the units of B].
        Direct path: one factorization, right-hand sides solved ``block`` at a time (MatMatSolve).
        """
        self.setup()
        B = np.asarray(B, dtype=np.float64)
        vec = B.ndim == 1
        B2 = B[:, None] if vec else B
        out = np.empty_like(B2)
        for s in range(0, B2.shape[1], block):
            out[:, s:s + block] = self._solve_block(B2[:, s:s + block])
        out = self.project(out)
        return out[:, 0] if vec else out

    def _solve_block(self, B: np.ndarray) -> np.ndarray:
        PETSc = self.PETSc
        k = B.shape[1]
        if self.method == "direct":
            n = self.keep.size
            rs, re = self._ownership(n)
            F = self._ksp.getPC().getFactorMatrix()
            size = ((re - rs, n), (PETSc.DECIDE, k))
            # only this rank's rows of the pinned right-hand sides are copied
            Bm = PETSc.Mat().createDense(size, array=np.asfortranarray(B[self.keep[rs:re]]), comm=self.comm)
            Xm = PETSc.Mat().createDense(size, comm=self.comm)
            Xm.setUp()
            Bm.assemble()
            Xm.assemble()
            F.matSolve(Bm, Xm)
            Xloc = np.array(Xm.getDenseArray(), copy=True)
            Bm.destroy()
            Xm.destroy()
            Xk = self._gather(Xloc)
            Z = np.zeros_like(B)
            Z[self.keep] = Xk
            return Z
        # iterative: one right-hand side at a time
        n = B.shape[0]
        rs, re = self._ownership(n)
        x = self._mat.createVecLeft()
        b = self._mat.createVecRight()
        Z = np.empty((re - rs, k))
        for c in range(k):
            b.setArray(B[rs:re, c].copy())
            self._nullsp.remove(b)
            x.set(0.0)
            self._ksp.solve(b, x)
            reason = self._ksp.getConvergedReason()
            if reason < 0:
                x.destroy(); b.destroy()
                raise RuntimeError(f"iterative solve did not converge (KSP reason {reason})")
            Z[:, c] = x.getArray()
        x.destroy()
        b.destroy()
        return self._gather(Z)

    def _gather(self, local: np.ndarray) -> np.ndarray:
        if self.comm.getSize() == 1:
            return local
        mpi = self.comm.tompi4py()
        return np.concatenate(mpi.allgather(local), axis=0)

    def matvec(self, X: np.ndarray) -> np.ndarray:
        """M X in the active numbering; X (n_active d,) or (n_active d, k), the same on every rank.

        Each rank multiplies its own rows (:attr:`M_local`); the result is allgathered."""
        return self._gather(self.M_local @ X)

    def factor_info(self) -> dict:
        """MUMPS factor statistics where available: peak memory in MB (INFOG(16) most loaded rank,
        INFOG(17) sum over ranks), factor entries (INFOG(9)) and negative pivots (INFOG(12))."""
        self.setup()
        info = {"solver_type": None}
        if self.method != "direct":
            return info
        pc = self._ksp.getPC()
        stype = pc.getFactorSolverType()
        info["solver_type"] = stype
        if stype == "mumps":
            F = pc.getFactorMatrix()
            info.update(mem_peak_mb=F.getMumpsInfog(16), mem_total_mb=F.getMumpsInfog(17),
                        factor_entries=F.getMumpsInfog(9), negative_pivots=F.getMumpsInfog(12))
        return info
