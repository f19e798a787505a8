"""Benchmark: the glass task's harmonic stage of one 3D IPL sample on a team of 1 rank vs 2 ranks.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
        mpirun -n 2 .venv/bin/python -u bench/teams.py --N 16000 --pairs 2000 --modes 20 --cache runs/bench
    ... --N 16000 --replicate 2 --teams 2        # N = 128000 (the 16000 glass tiled 2^3 times), team of 2 only
    ... -- -dipole_mat_mumps_icntl_28 2 -dipole_mat_mumps_icntl_29 1      # PETSc options after `--`

Must run on exactly 2 MPI ranks.  Each repeat runs, in turn, the team of 1 (PETSc.COMM_SELF on
rank 0 alone; rank 1 sleeps, polling without spinning, so rank 0 has a core of its own) and the
team of 2 (COMM_WORLD); ``--repeats`` alternates them and the wall times printed are medians.

What is timed is what ``hpcglass.workflows.harmonic_stage`` does for a glass sample, step by step:
A. ``lowest_modes`` (SLEPc shift-invert, its own MUMPS Cholesky of M - sigma I), B. the
``HarmonicSystem`` setup (pinned Hessian built by rows + MUMPS Cholesky), C. ``elastic_moduli``
(G, B), D. ``dipole_stiffness`` of ``--pairs`` random pairs (MatMatSolve, blocks of 256).

Memory per rank and per phase: the peak RSS (VmHWM from /proc/self/status, reset before each
phase through /proc/self/clear_refs after malloc_trim, so that one phase's peak and left-over heap
do not count in the next one's; ``start RSS`` is printed to show what is left) and
MUMPS INFOG(16) (largest per-rank factorization memory, MB) / INFOG(17) (sum over the team) of
the factorization of B.  Ratios are team of 2 over team of 1.

Configuration: random positions quenched by FIRE to max|F| < --ftol (the instantaneous quench
from T = infinity), rho = 0.82, the cache file shared with bench/harmonic.py; ``--make-config``
only makes it (one process, no MPI needed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def config(args):
    """(model, x) of the glass: the cached FIRE quench, made once, tiled --replicate^3 times."""
    from hpcglass.kernels.forces import VerletList
    from hpcglass.models import make_model
    from hpcglass.sampling.minimize import fire

    model = make_model("ipl", 3, args.N, density=args.rho)
    cache = f"{args.cache}/ipl3d_N{args.N}_rho{args.rho}_seed{args.seed}_ftol{args.ftol:g}.npy"
    if os.path.exists(cache):
        x = np.load(cache)
    else:
        t = time.perf_counter()
        x0 = np.random.default_rng(args.seed).random((args.N, 3)) * model.L
        q = fire(x0, model.L, VerletList(model).force, ftol=args.ftol)
        os.makedirs(args.cache, exist_ok=True)
        np.save(cache, q.x)
        x = q.x
        print(f"# made {cache}: FIRE {q.steps} steps to max|F|={q.max_force:.1e} "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
    if args.replicate > 1:
        K = args.replicate
        shifts = np.stack(np.meshgrid(*[np.arange(K)] * 3, indexing="ij"), -1).reshape(-1, 3) * model.L
        x = (x[None] + shifts[:, None]).reshape(-1, 3)
        model = replace(model, N=len(x), L=K * model.L, species=np.tile(model.species, K ** 3),
                        sizes=np.tile(model.sizes, K ** 3))
    return model, x


def hwm_mb() -> float:
    """Peak RSS since the last reset_hwm() [MiB] (VmHWM)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def reset_hwm() -> None:
    """Give freed heap back to the OS (malloc_trim), then restart the peak-RSS count from now.

    Without the trim, the heap left by one phase stays resident and counts in the next one's peak
    (rank 0 runs both teams)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def stage(pairs, model, comm, n_pairs, n_modes, seed, block=256):
    """The glass task's harmonic stage, timed step by step; returns (numbers, times, memory)."""
    from hpcglass.harmonic import (HarmonicSystem, dipole_stiffness, elastic_moduli, lowest_modes,
                                   rattler_pairs, select_pairs)

    N, V = model.N, model.volume
    reset_hwm()
    rss0 = hwm_mb()
    t0 = time.perf_counter()
    m = lowest_modes(pairs, N, k=n_modes, comm=comm)
    t1 = time.perf_counter()
    with HarmonicSystem(pairs, N, V, comm=comm) as hs:
        hs.setup()
        t2 = time.perf_counter()
        info = hs.factor_info()
        el = elastic_moduli(hs)
        t3 = time.perf_counter()
        which = select_pairs(pairs, "random", n=n_pairs, rng=np.random.default_rng(seed), exclude=rattler_pairs(hs))
        dip = dipole_stiffness(hs, which, block=block)
        t4 = time.perf_counter()
        F = hs._ksp.getPC().getFactorMatrix()
        mumps = info["solver_type"] == "mumps"
        ordering = (F.getMumpsInfog(7), F.getMumpsInfog(32)) if mumps else (-1, -1)
        # effective (not estimated) factorization memory: INFOG(21) max / INFOG(22) sum [MB]
        used = (F.getMumpsInfog(21), F.getMumpsInfog(22)) if mumps else (-1, -1)
    numbers = {"kappa": dip.kappa, "G": el.G, "eig": m.eigenvalues}
    times = {"modes": t1 - t0, "factor": t2 - t1, "G": t3 - t2, "kappa": t4 - t3, "total": t4 - t0}
    mem = {"hwm": hwm_mb(), "rss0": rss0, "infog16": info.get("mem_peak_mb"), "infog17": info.get("mem_total_mb"),
           "entries": info.get("factor_entries"), "ordering": ordering, "used": used}
    return numbers, times, mem


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--N", type=int, default=16000)
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--modes", type=int, default=20)
    ap.add_argument("--rho", type=float, default=0.82)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ftol", type=float, default=1e-8)
    ap.add_argument("--replicate", type=int, default=1)
    ap.add_argument("--block", type=int, default=256, help="right-hand sides per MatMatSolve")
    ap.add_argument("--repeats", type=int, default=1, help="alternating team-1 / team-2 runs (medians)")
    ap.add_argument("--teams", default="1,2", help="which teams to run: 1,2 | 1 | 2")
    ap.add_argument("--cache", default="runs/bench")
    ap.add_argument("--make-config", action="store_true", help="only make the cached glass")
    argv = sys.argv[1:] if argv is None else argv
    petsc_args = argv[argv.index("--") + 1:] if "--" in argv else []
    args = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.make_config:
        config(args)
        return
    from hpcglass import petsc_setup

    petsc_setup.init(petsc_args)
    from petsc4py import PETSc

    from hpcglass.kernels.forces import pair_terms

    world = PETSc.COMM_WORLD
    mpi = world.tompi4py()
    if mpi.size != 2:
        sys.exit("bench/teams.py: run it on exactly 2 MPI ranks (mpirun -n 2)")
    model, x = config(args) if mpi.rank == 0 else (None, None)
    model, x = mpi.bcast((model, x), root=0)
    t = time.perf_counter()
    pairs = pair_terms(x, model)
    if mpi.rank == 0:
        print(f"# 3D IPL glass N={model.N} rho={args.rho} pairs={len(pairs)} (pair_terms {time.perf_counter() - t:.1f} s); "
              f"{args.pairs} random pairs, {args.modes} modes; PETSc options {' '.join(petsc_args) or '(defaults)'}",
              flush=True)
    teams = [int(s) for s in args.teams.split(",")]
    runs = {1: [], 2: []}
    for rep in range(args.repeats):
        for team in teams:
            if team == 1:
                if mpi.rank == 0:
                    runs[1].append(stage(pairs, model, PETSc.COMM_SELF, args.pairs, args.modes, args.seed, args.block))
                    mpi.send("done", dest=1)
                else:
                    req = mpi.irecv(source=0)
                    while not req.Test():  # sleep instead of spinning in a barrier
                        time.sleep(0.2)
            else:
                res = stage(pairs, model, world, args.pairs, args.modes, args.seed, args.block)
                res[2]["hwm_ranks"] = mpi.gather(res[2]["hwm"], root=0)
                res[2]["rss0_ranks"] = mpi.gather(res[2]["rss0"], root=0)
                runs[2].append(res)
    if mpi.rank != 0:
        return
    med = {team: {k: float(np.median([r[1][k] for r in runs[team]])) for k in runs[team][0][1]}
           for team in teams if runs[team]}
    for team in teams:
        mem = runs[team][-1][2]
        hw = mem.get("hwm_ranks", [mem["hwm"]])
        r0 = mem.get("rss0_ranks", [mem["rss0"]])
        tt = med[team]
        print(f"team {team}: wall (median of {len(runs[team])}) modes {tt['modes']:.1f} s, factor {tt['factor']:.1f} s, "
              f"G {tt['G']:.1f} s, kappa {tt['kappa']:.1f} s, total {tt['total']:.1f} s; peak RSS per rank "
              f"{', '.join(f'{h:.0f}' for h in hw)} MiB (start RSS {', '.join(f'{h:.0f}' for h in r0)}); MUMPS INFOG(16)={mem['infog16']} MB INFOG(17)={mem['infog17']} MB "
              f"(used INFOG(21)={mem['used'][0]} INFOG(22)={mem['used'][1]} MB) "
              f"entries INFOG(9)={mem['entries']} ordering INFOG(7)={mem['ordering'][0]} analysis INFOG(32)={mem['ordering'][1]}",
              flush=True)
    if len(teams) == 2 and runs[1] and runs[2]:
        m1, m2 = runs[1][-1][2], runs[2][-1][2]
        n1, n2 = runs[1][-1][0], runs[2][-1][0]
        rel = max(float(np.max(np.abs(n2["kappa"] / n1["kappa"] - 1))), abs(n2["G"] / n1["G"] - 1),
                  float(np.max(np.abs(n2["eig"] / n1["eig"] - 1))))
        print(f"ratio team2/team1: wall {med[2]['total'] / med[1]['total']:.2f} (factor {med[2]['factor'] / med[1]['factor']:.2f}, "
              f"modes {med[2]['modes'] / med[1]['modes']:.2f}, kappa {med[2]['kappa'] / med[1]['kappa']:.2f}); "
              f"MUMPS INFOG(16) {m2['infog16'] / m1['infog16']:.2f}, INFOG(21) {m2['used'][0] / m1['used'][0]:.2f}; peak RSS max rank {max(m2['hwm_ranks']) / m1['hwm']:.2f}; "
              f"max rel diff kappa/G/eigenvalues {rel:.1e}", flush=True)


if __name__ == "__main__":
    main()
