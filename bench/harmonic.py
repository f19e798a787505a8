"""Benchmark: kappa for many pairs and the lowest modes of a 3D IPL sample, PETSc vs scipy.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python -u bench/harmonic.py --N 16000 --pairs 2000 --cache runs/bench

One thread everywhere (MUMPS and SuperLU both call BLAS): on a busy machine threaded BLAS
spins and the timings mean nothing; the comparison is one core against one core.

Configuration: a 3D binary 50:50 IPL glass (rho = 0.82) made by hpcglass itself: random
positions quenched by FIRE (hpcglass.sampling.minimize) to max|F| < --ftol, the instantaneous
quench from T = infinity.

Timed (same matrix, same pairs, one process):
  A. PETSc: pinned Hessian, MUMPS Cholesky factor once, MatMatSolve in blocks of --block dipoles;
  B. scipy.sparse.linalg.splu of the same pinned matrix, reused for every pair (block solves),
     with the symmetric ordering MMD_AT_PLUS_A (scipy's best for this matrix; --permc);
  C. scipy.sparse.linalg.spsolve per pair (a fresh factorization per pair): a subset of
     --spsolve-pairs pairs is timed and the total is extrapolated linearly (printed as such);
  D. 20 lowest non-zero modes: SLEPc Krylov-Schur shift-invert (MUMPS, translations deflated)
     vs scipy eigsh(sigma=-1e-3) on the same matrix, its shift-invert operator an splu with the
     same ordering as B.
--replicate K tiles the quenched glass K^3 times into a cube of side K L (still force-balanced):
the N = 128000 memory figure comes from the N = 16000 glass with --replicate 2 --skip-splu.
Memory: MUMPS INFOG(16) / INFOG(17) (MB, factorization peak), splu nnz(L)+nnz(U) (x 12 bytes),
and the process peak RSS (getrusage, monotone) after each stage.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
import resource
import sys
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from hpcglass.harmonic import (HarmonicSystem, dipole_stiffness, lowest_modes, select_pairs,  # noqa: E402
                               unit_dipoles)
from hpcglass.harmonic.dipoles import kappa_from_responses, rattler_pairs  # noqa: E402
from hpcglass.kernels.forces import VerletList, pair_terms  # noqa: E402
from hpcglass.models import make_model  # noqa: E402
from hpcglass.sampling.minimize import fire  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--N", type=int, default=16000)
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--rho", type=float, default=0.82)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ftol", type=float, default=1e-8, help="FIRE tolerance of the quench")
    ap.add_argument("--permc", default="MMD_AT_PLUS_A", help="splu column ordering")
    ap.add_argument("--block", type=int, default=256)
    ap.add_argument("--spsolve-pairs", type=int, default=3)
    ap.add_argument("--modes", type=int, default=20)
    ap.add_argument("--tether-scale", type=float, default=2.0)
    ap.add_argument("--skip-splu", action="store_true", help="skip B, C and eigsh, all built on splu (large N)")
    ap.add_argument("--replicate", type=int, default=1, help="tile the glass K^3 times")
    ap.add_argument("--cache", default="", help="folder keeping the quenched glass between runs")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    model = make_model("ipl", 3, args.N, density=args.rho)
    cache = args.cache and f"{args.cache}/ipl3d_N{args.N}_rho{args.rho}_seed{args.seed}_ftol{args.ftol:g}.npy"
    if cache and os.path.exists(cache):
        q = fire(np.load(cache), model.L, VerletList(model).force, ftol=args.ftol)
    else:
        x0 = np.random.default_rng(args.seed).random((args.N, 3)) * model.L
        q = fire(x0, model.L, VerletList(model).force, ftol=args.ftol)
        if cache:
            os.makedirs(args.cache, exist_ok=True)
            np.save(cache, q.x)
    x = q.x
    if args.replicate > 1:
        K = args.replicate
        shifts = np.stack(np.meshgrid(*[np.arange(K)] * 3, indexing="ij"), -1).reshape(-1, 3) * model.L
        x = (q.x[None] + shifts[:, None]).reshape(-1, 3)
        model = replace(model, N=len(x), L=K * model.L, species=np.tile(model.species, K**3),
                        sizes=np.tile(model.sizes, K**3))
    pt = pair_terms(x, model)
    N, V, L = model.N, model.volume, model.L
    print(f"# config: 3D IPL glass N={N} rho={args.rho} L={L:.4f} pairs={len(pt)}; FIRE {q.steps} steps to "
          f"max|F|={q.max_force:.1e} ({time.perf_counter() - t0:.1f} s)")

    # stability check: negative pivots of the pinned matrix (MUMPS LDL^T)
    tether = 0.0
    with HarmonicSystem(pt, N, V, spd=False, prefix="benchcheck_") as chk:
        neg = chk.factor_info().get("negative_pivots", 0)
        nrat = chk.n_rattlers
    if neg > 0:
        m0 = lowest_modes(pt, N, k=1, sigma=-50.0, prefix="benchcheck_")
        tether = args.tether_scale * abs(min(m0.eigenvalues[0], 0.0)) + 1e-10
    print(f"# rattlers removed: {nrat}; negative pivots: {neg}; tether eps = {tether:.3e}")

    rng = np.random.default_rng(args.seed)
    # ---------------- A. PETSc MUMPS
    rss0 = rss_mb()
    with HarmonicSystem(pt, N, V, tether=tether) as hs:
        which = select_pairs(pt, "random", n=args.pairs, rng=rng, exclude=rattler_pairs(hs))
        t = time.perf_counter(); hs.setup(); t_fac = time.perf_counter() - t
        info = hs.factor_info()
        t = time.perf_counter(); res = dipole_stiffness(hs, which, block=args.block); t_sol = time.perf_counter() - t
        A = hs.M_csr[hs.keep][:, hs.keep].tocsc()
        sub = np.searchsorted(hs.restriction.pair_index, which)
        D = unit_dipoles(hs.restriction.pairs, hs.n_active, sub)
        keep, project = hs.keep, hs.project
        n_dof = hs.n_active * 3
    rss_a = rss_mb()
    k_petsc = res.kappa
    t_petsc = t_fac + t_sol
    print(f"A PETSc/MUMPS Cholesky: factor {t_fac:.2f} s, {len(which)} solves {t_sol:.2f} s "
          f"({1e3 * t_sol / len(which):.2f} ms/pair), total {t_petsc:.2f} s; "
          f"MUMPS INFOG(16)={info.get('mem_peak_mb')} MB INFOG(17)={info.get('mem_total_mb')} MB, "
          f"factor entries INFOG(9)={info.get('factor_entries')}; peak RSS {rss0:.0f}->{rss_a:.0f} MB")
    print(f"  kappa: mean {k_petsc.mean():.4f} median {np.median(k_petsc):.4f}")

    if not args.skip_splu:
        # ---------------- B. scipy splu reused
        t = time.perf_counter(); lu = spla.splu(A, permc_spec=args.permc); t_lu = time.perf_counter() - t
        t = time.perf_counter()
        k_lu = np.empty(len(which))
        for s in range(0, len(which), args.block):
            Db = D[:, s:s + args.block]
            Z = np.zeros_like(Db)
            Z[keep] = lu.solve(Db[keep])
            k_lu[s:s + args.block] = kappa_from_responses(Db, project(Z))
        t_lus = time.perf_counter() - t
        lu_mb = (lu.L.nnz + lu.U.nnz) * 12 / 2 ** 20
        rss_b = rss_mb()
        t_splu = t_lu + t_lus
        print(f"B scipy splu reused: factor {t_lu:.2f} s, solves {t_lus:.2f} s "
              f"({1e3 * t_lus / len(which):.2f} ms/pair), total {t_splu:.2f} s; nnz(L+U)={lu.L.nnz + lu.U.nnz} "
              f"(~{lu_mb:.0f} MB); peak RSS {rss_b:.0f} MB; max|kappa rel diff| vs A = "
              f"{np.max(np.abs(k_lu / k_petsc - 1)):.1e}")
        del lu
        # ---------------- C. spsolve per pair (subset, extrapolated)
        nsub = min(args.spsolve_pairs, len(which))
        t = time.perf_counter()
        for c in range(nsub):
            Z = np.zeros(n_dof)
            Z[keep] = spla.spsolve(A, D[keep, c])
        t_sp1 = (time.perf_counter() - t) / nsub
        t_sp = t_sp1 * len(which)
        print(f"C scipy spsolve per pair: {t_sp1:.2f} s/pair (timed {nsub} pairs), "
              f"extrapolated to {len(which)} pairs: {t_sp:.0f} s")
        print(f"RATIO kappa: splu-reused / PETSc = {t_splu / t_petsc:.2f}x ; "
              f"spsolve-per-pair (extrapolated) / PETSc = {t_sp / t_petsc:.0f}x")

    # ---------------- D. modes
    k = args.modes
    if not k:
        return
    t = time.perf_counter(); m = lowest_modes(pt, N, k=k, tol=1e-10); t_slepc = time.perf_counter() - t
    rss_d = rss_mb()
    print(f"D SLEPc {k} lowest modes: {t_slepc:.2f} s; lambda_1..3 = {np.round(m.eigenvalues[:3], 6)}; "
          f"peak RSS {rss_d:.0f} MB")
    if args.skip_splu:
        return
    Mfull = None
    with HarmonicSystem(pt, N, V) as hs:
        Mfull = hs.M_csr.tocsc()
    t = time.perf_counter()
    shifted = spla.splu((Mfull + 1e-3 * sp.identity(Mfull.shape[0], format="csc")).tocsc(), permc_spec=args.permc)
    opinv = spla.LinearOperator(Mfull.shape, matvec=shifted.solve, dtype=np.float64)
    w = spla.eigsh(Mfull, k=k + 3, sigma=-1e-3, which="LM", OPinv=opinv, return_eigenvectors=False)
    t_eigsh = time.perf_counter() - t
    w = np.sort(w)[3:]
    print(f"D scipy eigsh shift-invert: {t_eigsh:.2f} s; max rel diff vs SLEPc = "
          f"{np.max(np.abs(w / m.eigenvalues - 1)):.1e}")
    print(f"RATIO modes: eigsh / SLEPc = {t_eigsh / t_slepc:.2f}x")
    if tether:
        print("# note: the modes are those of the untethered Hessian (negative ones included)")


if __name__ == "__main__":
    main()
