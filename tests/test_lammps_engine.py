"""The lammps MD engine (hpcglass.sampling.lammps_engine) against hpcglass's own physics.

(a) LAMMPS's tabulated energies and forces of the same configuration equal hpcglass's exact
    ones within the measured table error; the table error itself is checked independently
    (its convergence order and the bound); (b) NVT through LAMMPS holds the kinetic temperature
    at T_p and gives the U/N of hpcglass's numba MD at the same T_p within sample scatter;
    (c) under mpirun -n 2 the engine on a 2-rank communicator gives the 1-rank trajectory and
    the same gathered positions on both ranks; bad input is refused before LAMMPS starts.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from hpcglass.kernels.forces import VerletList, energy_forces, pair_terms
from hpcglass.kernels.pair import pair_phi
from hpcglass.models import make_model
from hpcglass.potentials import padded
from hpcglass.sampling import lammps_engine as le
from hpcglass.sampling.md import maxwell_velocities, run_nvt
from hpcglass.sampling.minimize import fire

from mpi_helpers import ROOT, mpi_env

OK, WHY = le.lammps_available()
needs_lammps = pytest.mark.skipif(not OK, reason=f"LAMMPS Python module unusable ({WHY}); `make setup` "
                                                 f"installs python3-lammps and liblammps-dev")


def relaxed(name, d, N, seed=1):
    m = make_model(name, d, N)
    rng = np.random.default_rng(seed)
    return m, fire(rng.random((N, d)) * m.L, m.L, VerletList(m).force, ftol=1.0).x


@needs_lammps
def test_lammps_module_has_mpi():
    from mpi4py import MPI

    lmp = le.open_lammps(MPI.COMM_SELF)
    try:
        assert lmp.has_mpi_support and lmp.has_style("pair", "table") and lmp.has_style("fix", "nvt")
        assert lmp.extract_setting("world_size") == 1
    finally:
        lmp.close()


@needs_lammps
@pytest.mark.parametrize("name", ["ipl", "kablj"])
def test_table_error_converges_and_meets_bound(name):
    m = make_model(name, 3, 10)
    # cubic spline with exact end slopes: error ~ n^-4, so doubling n divides it by ~16
    e1, e2 = le.table_error(m, 2000), le.table_error(m, 4000)
    assert 8 < e1[0] / e2[0] < 32 and 8 < e1[1] / e2[1] < 32
    t = le.choose_table(m)
    assert max(t.force_error, t.energy_error) < le.TABLE_REL_TOL
    # the smallest doubling that meets it: half the table does not
    assert max(le.table_error(m, t.n // 2)) >= le.TABLE_REL_TOL or t.n == le.TABLE_N0


@needs_lammps
@pytest.mark.parametrize("name,d,N", [("ipl", 3, 1000), ("kablj", 3, 1000), ("ipl", 2, 800)])
def test_energy_forces_match_hpcglass(name, d, N):
    m, x = relaxed(name, d, N)
    t = le.choose_table(m)
    U, F = le.lammps_energy_forces(x, m, table=t)
    U0, F0, _ = energy_forces(x, m)
    # per pair |df| <= err_f max(|f|, eps/lam), |dphi| <= err_e max(|phi|, eps): sum over pairs
    p = pair_terms(x, m)
    lam = m.lam[m.species[p.i], m.species[p.j]]
    eps = m.eps[m.species[p.i], m.species[p.j]]
    w = np.maximum(np.abs(p.dphi), eps / lam)
    bound_F = np.zeros(N)
    np.add.at(bound_F, p.i, w)
    np.add.at(bound_F, p.j, w)
    assert np.all(np.abs(F - F0).max(axis=1) <= t.force_error * bound_F + 1e-12)
    phi = np.array([pair_phi(r, a, e, m.base, m.xc, *padded(m.coeffs))[0] for r, a, e in zip(p.r, lam, eps)])
    assert abs(phi.sum() - U0) < 1e-9 * abs(U0)
    assert abs(U - U0) <= t.energy_error * np.sum(np.maximum(np.abs(phi), eps)) + 1e-12
    assert np.abs(F - F0).max() > 0  # LAMMPS really computed (interpolated, not our numbers)


def _numba_nvt(m, x, T, dt, steps, seed):
    """Late-half mean kinetic T and U/N of hpcglass's Bussi NVT from x."""
    rng = np.random.default_rng(seed)
    vl = VerletList(m)
    r = run_nvt(x, maxwell_velocities(m.N, m.d, T, rng), m.L, vl.force, dt, steps // 2, T, rng)
    r = run_nvt(r.x, r.v, m.L, vl.force, dt, steps - steps // 2, T, rng)
    return r.T_mean, r.U_mean


@needs_lammps
@pytest.mark.parametrize("name,T", [("ipl", 1.0), ("kablj", 1.0)])
def test_nvt_temperature_and_energy_match_numba_md(name, T):
    m, x = relaxed(name, 3, 256)
    dt, steps, seeds = 0.005, 4000, range(4)
    lam_T, lam_U, nb_T, nb_U = [], [], [], []
    for s in seeds:
        _, rec = le.lammps_equilibrate_quench(x, m, T, dt, steps, None, 100 + s, n_blocks=16)
        late = slice(8, 16)
        w = rec["eq_block_steps"][late]
        lam_T.append(np.average(rec["eq_block_T"][late], weights=w))
        lam_U.append(np.average(rec["eq_block_U"][late], weights=w))
        t, u = _numba_nvt(m, x, T, dt, steps, 200 + s)
        nb_T.append(t)
        nb_U.append(u)
    se = lambda a: np.std(a, ddof=1) / np.sqrt(len(a))  # noqa: E731
    # kinetic temperature at T_p (Nose-Hoover holds the mean) and equal to Bussi's
    assert abs(np.mean(lam_T) - T) < max(4 * se(lam_T), 0.005 * T)
    assert abs(np.mean(lam_T) - np.mean(nb_T)) < 4 * np.hypot(se(lam_T), se(nb_T)) + 0.005 * T
    # the same canonical U/N within sample scatter (4 sigma: about 0.06 eps here, a few % of T in U)
    assert abs(np.mean(lam_U) - np.mean(nb_U)) < 4 * np.hypot(se(lam_U), se(nb_U))


@needs_lammps
def test_quench_ends_cold_and_rate_matches_linear_quench():
    m, x = relaxed("ipl", 2, 400)
    T_p, dt, rate = 0.8, 0.005, 0.02
    xq, rec = le.lammps_equilibrate_quench(x, m, T_p, dt, 400, rate, 5)
    T_end = float(rec["quench_T_end"])
    assert 0 < T_end <= 1e-5 * T_p
    # slope of the LAMMPS ramp equals the requested rate to within one step's worth
    slope = (T_p - T_end) / (int(rec["quench_steps"]) * dt)
    assert rate * (1 - rate * dt / T_p) <= slope <= rate
    assert xq.shape == (400, 2) and np.all((xq >= 0) & (xq < m.L))
    U = energy_forces(xq, m)[0] / m.N
    assert abs(U - rec["U_final"]) < 1e-6 * abs(U)
    # the quench ends near an inherent structure: hpcglass's FIRE lowers U/N only a little
    q = fire(xq, m.L, VerletList(m).force, ftol=1e-8)
    assert 0 <= U - q.U / m.N < 0.01 * abs(U)


def test_engine_refuses_bad_input_before_lammps():
    with pytest.raises(ValueError, match="poly"):
        le.check_engine("poly", 3)
    with pytest.raises(ValueError, match="d = 4"):
        le.check_engine("ipl", 4)
    m = make_model("ipl", 3, 100)
    with pytest.raises(ValueError, match="shape"):
        le.lammps_equilibrate_quench(np.zeros((99, 3)), m, 0.5, 0.005, 10, None, 1)
    with pytest.raises(ValueError, match="T_p > 0"):
        le.lammps_equilibrate_quench(np.zeros((100, 3)), m, -0.5, 0.005, 10, None, 1)


@needs_lammps
@pytest.mark.mpi
def test_two_rank_communicator(tmp_path):
    import shutil

    if shutil.which("mpirun") is None:
        pytest.skip("mpirun not found (install openmpi-bin: make setup)")
    out = tmp_path / "summary.json"
    cmd = [shutil.which("mpirun"), "-n", "2", "--oversubscribe", sys.executable,
           str(ROOT / "tests" / "lammps_mpi_worker.py"), str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=mpi_env(), cwd=ROOT)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    s = json.loads(out.read_text())
    assert s["ranks"] == 2 and s["ranks_q"] == 2
    assert s["same_on_ranks"] and s["finite"] and s["in_box"] and s["shape"] == [500, 3]
    # 20 steps from the same seed: 2 ranks (domain decomposition) == 1 rank to round-off
    assert s["max_dx_1_vs_2_ranks"] < 1e-8
    assert abs(s["U_final_2"] - s["U_final_1"]) < 1e-9 * abs(s["U_final_1"])
    # the gathered positions are the ones LAMMPS integrated (its energy of them)
    assert abs(s["U_hpcglass_of_gathered"] - s["U_final_2"]) < 1e-6 * abs(s["U_final_2"])
    assert abs(s["Uq_hpcglass_of_gathered"] - s["Uq_final"]) < 1e-6 * abs(s["Uq_final"])
    assert s["quench_steps"] == int(np.ceil((0.6 - 0.6e-6) / (0.05 * 0.005)))


ENGINES = """
run: {{seed: 11, progress_seconds: 100}}
ensembles:
  - {{name: numba, kind: glass, model: ipl, d: 2, N: 200, samples: {n}, T_p: 1.0, equilibration: 5}}
  - {{name: lammps, kind: glass, model: ipl, d: 2, N: 200, samples: {n}, T_p: 1.0, equilibration: 5, engine: lammps}}
"""


@pytest.mark.slow
def test_glasses_of_both_engines_agree_within_sample_scatter(tmp_path):
    """The same ensemble made by the numba MD and by the lammps engine (then hpcglass's own FIRE
    and harmonic stage): U/N, G and the mean log kappa agree within 4 standard errors."""
    from mpi4py import MPI

    from hpcglass.run import run

    n = 8
    inp = tmp_path / "in.yaml"
    inp.write_text(ENGINES.format(n=n))
    out = tmp_path / "r.h5"
    assert run(inp, out=str(out), comm=MPI.COMM_SELF).exit_code == 0
    import h5py

    with h5py.File(out, "r") as h5:
        g = {e: h5["ensembles"][e] for e in ("numba", "lammps")}
        assert np.all(g["lammps"]["lammps_table_force_error"][()] < 1e-6)
        assert np.all(np.abs(g["lammps"]["md_T_mean"][()] - 1.0) < 0.1)
        for name in ("energy", "G"):
            a, b = g["numba"][name][()], g["lammps"][name][()]
            se = np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
            assert abs(a.mean() - b.mean()) < 4 * se, (name, a.mean(), b.mean(), se)
        ka = [np.log(g[e]["kappa"][()]).mean() for e in g]
        per = [np.split(np.log(g[e]["kappa"][()]), g[e]["kappa_offsets"][1:-1]) for e in g]
        se = np.sqrt(sum(np.var([p.mean() for p in s], ddof=1) / n for s in per))
        assert abs(ka[0] - ka[1]) < 4 * se
