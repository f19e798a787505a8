"""Large-N MD: hpcglass numba MD (1 rank) against the lammps engine on 1 and on 2 MPI ranks.

    .venv/bin/python bench/lammps_md.py [--N 32000 --T 0.6 --steps 500 --repeat 5]

Configuration (hpcglass): make_model("ipl", 3, N) (rho = 0.82), random positions -> FIRE to
max|F| < 1 -> --equil Bussi NVT steps at --T with VerletList, saved to a temporary .npz file.

Timed, NVT at --T for --steps steps of dt = --dt, skin 0.3, rebuild when an atom moved > skin/2:
  hpcglass  run_nvt (velocity Verlet + Bussi rescaling, numba VerletList), this process, after
            a warm-up call (no compile time);
  LAMMPS    hpcglass.sampling.lammps_engine.build_system (the same pair_phi as `pair_style
            table spline`, table chosen by choose_table: error < 1e-6) + `fix nvt` (Nose-Hoover),
            in `mpirun -n 1` and `mpirun -n 2` children of this script (--worker); the wall time
            of `run STEPS` between barriers, after a `run 0` (setup excluded, as LAMMPS's Loop time).
One repeat = one run of each of the three, in that order; --repeat interleaved repeats; the
medians are printed with the ratios hpcglass / LAMMPS(1) and LAMMPS(1) / LAMMPS(2) (target for
the latter >= 1.6).  Prints `uptime` before and after: the load of a shared machine matters.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hpcglass.models import make_model  # noqa: E402

SKIN = 0.3


def worker(path: str, steps: int, T: float, dt: float, seed: int) -> None:
    """mpirun child: LAMMPS NVT on COMM_WORLD from the saved configuration; rank 0 prints the time."""
    from mpi4py import MPI

    from hpcglass.sampling.lammps_engine import build_system, choose_table

    comm = MPI.COMM_WORLD
    x = np.load(path)["x"]
    m = make_model("ipl", 3, x.shape[0])
    table = choose_table(m) if comm.rank == 0 else None
    table = comm.bcast(table, root=0)
    lmp = build_system(x, m, table, comm, SKIN)
    lmp.commands_list([f"timestep {dt!r}", f"velocity all create {T!r} {seed} dist gaussian mom yes rot no",
                       f"fix nvt all nvt temp {T!r} {T!r} 0.5", "thermo 0", "run 0"])
    comm.Barrier()
    t = time.perf_counter()
    lmp.command(f"run {steps}")
    comm.Barrier()
    wall = time.perf_counter() - t
    lmp.close()
    if comm.rank == 0:
        print(f"WALL {wall!r} TABLE {table.n} {table.force_error!r}", flush=True)


def lammps_run(n: int, path: str, args) -> tuple[float, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = [shutil.which("mpirun") or "mpirun", "-n", str(n), "--oversubscribe", "--bind-to", "none",
           sys.executable, os.path.abspath(__file__), "--worker", path, "--steps", str(args.steps),
           "--T", repr(args.T), "--dt", repr(args.dt), "--seed", str(args.seed)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = [s for s in res.stdout.splitlines() if s.startswith("WALL ")]
    if res.returncode != 0 or not line:
        raise RuntimeError(f"LAMMPS worker failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    _, wall, _, n_tab, err = line[-1].split()
    return float(wall), f"table n={n_tab}, force error {float(err):.1e}"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--N", type=int, default=32000)
    ap.add_argument("--T", type=float, default=0.6)
    ap.add_argument("--dt", type=float, default=0.005)
    ap.add_argument("--equil", type=int, default=200)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--worker", metavar="NPZ", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.steps, args.T, args.dt, args.seed)

    from hpcglass.kernels.forces import VerletList
    from hpcglass.sampling.lammps_engine import lammps_available
    from hpcglass.sampling.md import maxwell_velocities, run_nvt
    from hpcglass.sampling.minimize import fire

    ok, why = lammps_available()
    if not ok:
        sys.exit(f"LAMMPS Python module unusable: {why} (make setup installs liblammps-dev)")
    print(f"# uptime before: {uptime()}", flush=True)
    t0 = time.perf_counter()
    m = make_model("ipl", 3, args.N)
    N, L = m.N, m.L
    rng = np.random.default_rng(args.seed)
    x = fire(rng.random((N, 3)) * L, L, VerletList(m, SKIN).force, ftol=1.0).x
    eq = run_nvt(x, maxwell_velocities(N, 3, args.T, rng), L, VerletList(m, SKIN).force, args.dt, args.equil,
                 args.T, rng)
    x, v = eq.x, eq.v
    print(f"# config: IPL 3D N={N} L={L:.4f}; {args.equil} NVT steps at T={args.T} (T_mean {eq.T_mean:.3f}, "
          f"U/N {eq.U_mean:.4f}) ({time.perf_counter() - t0:.1f} s)", flush=True)
    run_nvt(x, v, L, VerletList(m, SKIN).force, args.dt, 3, args.T, rng)  # numba compile
    times = {"hpcglass": [], "lammps1": [], "lammps2": []}
    with tempfile.TemporaryDirectory(prefix="bench_lammps_md_") as wd:
        path = os.path.join(wd, "x.npz")
        np.savez(path, x=x)
        for rep in range(args.repeat):
            vl = VerletList(m, SKIN)
            t = time.perf_counter()
            run_nvt(x, v, L, vl.force, args.dt, args.steps, args.T, rng)
            times["hpcglass"].append(time.perf_counter() - t)
            w1, tab = lammps_run(1, path, args)
            w2, _ = lammps_run(2, path, args)
            times["lammps1"].append(w1)
            times["lammps2"].append(w2)
            print(f"  repeat {rep}: hpcglass {times['hpcglass'][-1]:.2f} s, LAMMPS 1 rank {w1:.2f} s, "
                  f"2 ranks {w2:.2f} s", flush=True)
    med = {k: float(np.median(v)) for k, v in times.items()}
    per = {k: w / (args.steps * N) * 1e6 for k, w in med.items()}
    print(f"MD NVT IPL 3D N={N}, {args.steps} steps, dt={args.dt}, skin={SKIN}, median of {args.repeat} "
          f"interleaved repeats ({tab}):")
    print(f"  hpcglass numba run_nvt, 1 rank   {med['hpcglass']:7.2f} s  {per['hpcglass']:.3f} us/atom-step")
    print(f"  LAMMPS engine, 1 rank            {med['lammps1']:7.2f} s  {per['lammps1']:.3f} us/atom-step")
    print(f"  LAMMPS engine, 2 ranks           {med['lammps2']:7.2f} s  {per['lammps2']:.3f} us/atom-step")
    print(f"RATIO hpcglass(1) / LAMMPS(1) = {med['hpcglass'] / med['lammps1']:.2f} ; "
          f"LAMMPS(1) / LAMMPS(2) = {med['lammps1'] / med['lammps2']:.2f} (target >= 1.6) ; "
          f"hpcglass(1) / LAMMPS(2) = {med['hpcglass'] / med['lammps2']:.2f}")
    print(f"# uptime after: {uptime()}")


if __name__ == "__main__":
    main()
