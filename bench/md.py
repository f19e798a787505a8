"""MD and FIRE throughput of hpcglass against LAMMPS (serial): IPL 3D and KABLJ 3D MD, IPL 3D FIRE.

    .venv/bin/python bench/md.py [--models ipl,kablj --N 8000 --steps 1000 --repeat 5 --fire-N 1000]

Configurations (made by hpcglass, shared by both codes through a LAMMPS data file with positions
and velocities): make_model(model, 3, N) (IPL: 50:50, rho = 0.82; KABLJ: 80:20, rho = 1.2; the
smoothed potentials), random positions -> FIRE to max|F| < 1 -> --equil NVT steps (Bussi
thermostat) at the model's --T (IPL 0.6, KABLJ 0.8 by default).

Same potential in LAMMPS: `pair_style table spline` with one table per type pair (AA, AB, BB),
from hpcglass's pair_phi (energy and -phi') on --table-n points evenly spaced in r^2
(lammps_io.write_lammps_table with exact end slopes, FPRIME) from 0.3 lambda_ij to the cutoff,
where phi and phi' are exactly 0.  Sanity check: LAMMPS `run 0` energy vs hpcglass energy of the
same configuration.  For KABLJ a third line uses the analytic `lj/cut` with a plain energy shift
(`pair_modify shift yes`, cutoff 2.5 sigma_ij): a different (unsmoothed) potential, shown only for
speed, since table lookups may cost more than the analytic kernel.

Timed, both codes on one core (LAMMPS: the `lmp` binary, OMP_NUM_THREADS=1, no suffix, serial):
  MD: --steps steps of NVE velocity Verlet, dt = --dt, Verlet skin 0.3 with the same rebuild rule
      (some particle moved > skin/2; LAMMPS `neigh_modify every 1 delay 0 check yes`).
      hpcglass: wall time of run_nvt(thermostat=False) after a warm-up call (no numba compile
      time); LAMMPS: the "Loop time" of the run (setup excluded).  --repeat interleaved pairs
      (hpcglass, then LAMMPS); the printed ratio is the median of the per-pair ratios, the times
      the medians of each side.
  FIRE (IPL 3D, N = --fire-N): quench of the liquid at T_ipl until max_i,k |F_ik| < --ftol on both
      sides (hpcglass fire(): largest Cartesian component; LAMMPS `min_modify norm inf` +
      `minimize 0 ftol`: the same infinity norm), --fire-repeat interleaved pairs, medians.  Both
      run FIRE 2.0 (Guenole et al. 2020) with hpcglass's parameters:
      N_min 5 (LAMMPS delaystep, which also sets its initial delay; ours is 20 steps), f_inc 1.1,
      f_dec 0.5, alpha_start 0.1, f_alpha 0.99, dt_max 7 dt0, dt_min 0.02 dt0, dt0 = --dt,
      semi-implicit Euler, half step back on P <= 0, displacement cap dmax 0.1 (LAMMPS caps the
      step from the velocity before the kick, hpcglass the velocity after it).  The two quenches
      may end in different minima: energies are printed, not compared.

Prints per model the per-atom-step cost of each MD line, the ratio hpcglass / LAMMPS (target
<= 1, a defect above 1.5), the energy drift of each NVE run; then FIRE's per-step cost, iteration
count, their ratios and final U/N.  The machine is shared: `uptime` is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hpcglass.configio import Configuration  # noqa: E402
from hpcglass.kernels.forces import VerletList, energy_forces  # noqa: E402
from hpcglass.lammps_io import lammps_pair_lines, write_lammps_data, write_lammps_table  # noqa: E402
from hpcglass.models import make_model  # noqa: E402
from hpcglass.sampling.md import maxwell_velocities, run_nvt  # noqa: E402
from hpcglass.sampling.minimize import MinimizationError, fire  # noqa: E402

SKIN = 0.3


def write_data(path: str, model, x: np.ndarray, v: np.ndarray) -> None:
    """The shared configuration, with velocities (hpcglass.lammps_io's LAMMPS data writer)."""
    conf = Configuration(x=x, L=model.L, species=model.species)
    write_lammps_data(path, conf, model.name, v=v, title=f"{model.name} N={model.N} from hpcglass")


def write_table(path: str, model, n: int) -> None:
    write_lammps_table(path, model, n, fp=True)


pair_lines = lammps_pair_lines


HEAD = """units lj
atom_style atomic
boundary p p p
read_data data.txt
{pair}
neighbor {skin} bin
neigh_modify every 1 delay 0 check yes
timestep {dt}
thermo_modify norm no
variable pe equal pe
variable et equal etotal
variable fm equal fmax
"""


def lammps(workdir: str, script: str) -> str:
    with open(os.path.join(workdir, "in.txt"), "w") as fh:
        fh.write(script)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run([shutil.which("lmp") or "lmp", "-in", "in.txt", "-log", "none", "-nocite", "-echo", "none"],
                         cwd=workdir, env=env, capture_output=True, text=True)
    if res.returncode != 0 or "ERROR" in res.stdout:
        raise RuntimeError(f"LAMMPS failed:\n{res.stdout[-3000:]}\n{res.stderr[-2000:]}")
    return res.stdout


def grab(out: str, key: str) -> list[float]:
    return [float(s) for s in re.findall(rf"^{key} (\S+)", out, re.M)]


def loop_time(out: str) -> tuple[float, int]:
    """(seconds, steps) of the last 'Loop time of X on 1 procs for N steps with M atoms'."""
    t, n = re.findall(r"Loop time of (\S+) on 1 procs for (\d+) steps", out)[-1]
    return float(t), int(n)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def liquid(name: str, N: int, T: float, equil: int, dt: float, seed: int):
    """(model, x, v): hpcglass's liquid at T (zero total momentum)."""
    m = make_model(name, 3, N)
    rng = np.random.default_rng(seed)
    x = fire(rng.random((N, 3)) * m.L, m.L, VerletList(m, SKIN).force, ftol=1.0).x
    eq = run_nvt(x, maxwell_velocities(N, 3, T, rng), m.L, VerletList(m, SKIN).force, dt, equil, T, rng)
    print(f"# config: {name} 3D N={N} L={m.L:.6f}; {equil} NVT steps at T={T} "
          f"(T_mean {eq.T_mean:.3f}, U/N {eq.U_mean:.4f})", flush=True)
    return m, eq.x, eq.v - eq.v.mean(axis=0)


def md_bench(name: str, args, T: float) -> None:
    m, x, v = liquid(name, args.N, T, args.equil, args.dt, args.seed)
    N, L, dt = m.N, m.L, args.dt
    rng = np.random.default_rng(args.seed + 1)
    U_ref = energy_forces(x, m)[0]
    styles = ("table", "lj/cut") if name == "kablj" else ("table",)
    with tempfile.TemporaryDirectory(prefix="bench_md_") as wd:
        write_data(os.path.join(wd, "data.txt"), m, x, v)
        write_table(os.path.join(wd, "table.txt"), m, args.table_n)
        fmt = dict(skin=SKIN, dt=dt)
        out = lammps(wd, HEAD.format(pair=pair_lines(m, "table", args.table_n, args.table_style), **fmt)
                     + 'run 0\nprint "PE ${pe}"\n')
        U_lmp = grab(out, "PE")[0]
        print(f"# energy check (pair_style table {args.table_style} {args.table_n}, RSQ grid): LAMMPS "
              f"{U_lmp:.10f}, hpcglass {U_ref:.10f}, relative difference {abs(U_lmp / U_ref - 1):.1e}", flush=True)
        md = ("fix 1 all nve\nthermo {n}\n"
              'run 0\nprint "ET ${{et}}"\nrun {n}\nprint "ET ${{et}}"\n').format(n=args.steps)
        run_nvt(x, v, L, VerletList(m, SKIN).force, dt, 5, 0.0, rng, thermostat=False)  # numba compile
        walls = {k: [] for k in ("hpcglass",) + styles}
        builds, drift = {}, {}
        E0 = U_ref + 0.5 * float(np.sum(v * v))
        for _ in range(args.repeat):
            vl = VerletList(m, SKIN)
            t = time.perf_counter()
            res = run_nvt(x, v, L, vl.force, dt, args.steps, 0.0, rng, thermostat=False)
            walls["hpcglass"].append(time.perf_counter() - t)
            builds["hpcglass"] = vl.builds
            drift["hpcglass"] = (res.U + 0.5 * float(np.sum(res.v * res.v)) - E0) / N
            for style in styles:
                out = lammps(wd, HEAD.format(pair=pair_lines(m, style, args.table_n, args.table_style), **fmt) + md)
                wall, steps = loop_time(out)
                assert steps == args.steps
                walls[style].append(wall)
                builds[style] = int(re.findall(r"Neighbor list builds = (\d+)", out)[-1])
                e = grab(out, "ET")
                drift[style] = (e[1] - e[0]) / N
    per = {k: float(np.median(w)) / (args.steps * N) * 1e6 for k, w in walls.items()}
    ratio = {k: float(np.median(np.array(walls["hpcglass"]) / np.array(walls[k]))) for k in styles}
    names = {"hpcglass": "hpcglass run_nvt (NVE)", "table": f"LAMMPS pair table {args.table_style} (same potential)",
             "lj/cut": "LAMMPS lj/cut shift yes (unsmoothed)"}
    print(f"MD {name} 3D N={N}: {args.steps} NVE steps, dt={dt}, skin={SKIN}, medians of {args.repeat} interleaved pairs")
    for k in walls:
        print(f"  {names[k]:<44s} {np.median(walls[k]):7.2f} s  {per[k]:6.3f} us/atom-step  {builds[k]:4d} list builds  "
              f"energy drift (E_end - E_start)/N {drift[k]:+.1e}")
    print(f"RATIO MD {name} hpcglass / LAMMPS table = {ratio['table']:.2f}"
          + (f" ; hpcglass / LAMMPS lj/cut = {ratio['lj/cut']:.2f}" if "lj/cut" in ratio else "")
          + "  (median of per-pair ratios; target <= 1.0, defect > 1.5)", flush=True)


def fire_bench(args, T: float) -> None:
    m, x, v = liquid("ipl", args.fire_N, T, args.equil, args.dt, args.seed)
    N, L, dt = m.N, m.L, args.dt
    mini = (f"min_style fire\n"
            f"min_modify norm inf integrator eulerimplicit delaystep 5 dtgrow 1.1 dtshrink 0.5 "
            f"alpha0 0.1 alphashrink 0.99 tmax 7.0 tmin 0.02 halfstepback yes initialdelay yes "
            f"vdfmax 1000000000\n"
            f"thermo 100000\nminimize 0.0 {args.ftol!r} {args.fire_max_steps} {args.fire_max_steps}\n"
            f'print "PE ${{pe}}"\nprint "FM ${{fm}}"\n')
    fire(x, L, VerletList(m, SKIN).force, ftol=1.0, dt0=dt)  # numba compile
    ours, theirs = [], []
    with tempfile.TemporaryDirectory(prefix="bench_fire_") as wd:
        write_data(os.path.join(wd, "data.txt"), m, x, v)
        write_table(os.path.join(wd, "table.txt"), m, args.table_n)
        for _ in range(args.fire_repeat):
            t = time.perf_counter()
            try:
                q = fire(x, L, VerletList(m, SKIN).force, ftol=args.ftol, dt0=dt, max_steps=args.fire_max_steps)
            except MinimizationError as err:  # still time it: the limit is the same on both sides
                q = argparse.Namespace(steps=err.steps, U=np.nan, max_force=err.max_force)
            ours.append(time.perf_counter() - t)
            out = lammps(wd, HEAD.format(pair=pair_lines(m, "table", args.table_n, args.table_style),
                                         skin=SKIN, dt=dt) + mini)
            t_lmp, steps_lmp = loop_time(out)
            theirs.append(t_lmp)
    crit = re.findall(r"Stopping criterion = (.+)", out)[-1].strip()
    U_l, fmax_l = grab(out, "PE")[0], grab(out, "FM")[0]
    t_ours, t_lmp = float(np.median(ours)), float(np.median(theirs))
    ps_ours, ps_lmp = t_ours / max(q.steps, 1), t_lmp / max(steps_lmp, 1)
    print(f"FIRE IPL 3D N={N} to max|F_ik| < {args.ftol:g} from the liquid at T={T} (dt0={dt}), "
          f"medians of {args.fire_repeat} interleaved pairs:")
    print(f"  hpcglass fire           {t_ours:7.3f} s  {q.steps:6d} steps  {1e3 * ps_ours:.3f} ms/step  "
          f"{1e6 * ps_ours / N:.3f} us/atom-step  U/N {q.U / N:.8f}  max|F_ik| {q.max_force:.1e}")
    print(f"  LAMMPS min_style fire   {t_lmp:7.3f} s  {steps_lmp:6d} steps  {1e3 * ps_lmp:.3f} ms/step  "
          f"{1e6 * ps_lmp / N:.3f} us/atom-step  U/N {U_l / N:.8f}  max|F_ik| {fmax_l:.1e}  ({crit})")
    print(f"RATIO FIRE hpcglass / LAMMPS: wall {t_ours / t_lmp:.2f} ; per step {ps_ours / ps_lmp:.2f} ; "
          f"steps {q.steps / max(steps_lmp, 1):.2f}  (different minima possible: U/N are not expected to agree)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="ipl,kablj", help="comma-separated: ipl, kablj")
    ap.add_argument("--N", type=int, default=8000)
    ap.add_argument("--T-ipl", type=float, default=0.6, help="temperature of the IPL liquid")
    ap.add_argument("--T-kablj", type=float, default=0.8, help="temperature of the KABLJ liquid")
    ap.add_argument("--equil", type=int, default=500, help="NVT steps preparing the liquid")
    ap.add_argument("--dt", type=float, default=0.005)
    ap.add_argument("--steps", type=int, default=1000, help="timed NVE steps")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved (hpcglass, LAMMPS) MD pairs")
    ap.add_argument("--fire-N", type=int, default=1000, help="IPL 3D size of the FIRE comparison (0: skip)")
    ap.add_argument("--fire-repeat", type=int, default=3)
    ap.add_argument("--ftol", type=float, default=1e-6, help="FIRE: max force component")
    ap.add_argument("--fire-max-steps", type=int, default=15000, help="FIRE step limit, both codes")
    ap.add_argument("--table-n", type=int, default=20000, help="LAMMPS table points per type pair")
    ap.add_argument("--table-style", default="spline", choices=["linear", "spline"])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if shutil.which("lmp") is None:
        sys.exit("lmp (LAMMPS) not found on PATH")
    print(f"# uptime before: {uptime()}", flush=True)
    T = {"ipl": args.T_ipl, "kablj": args.T_kablj}
    for name in args.models.split(","):
        md_bench(name.strip(), args, T[name.strip()])
    if args.fire_N:
        fire_bench(args, args.T_ipl)
    print(f"# uptime after: {uptime()}")


if __name__ == "__main__":
    main()
