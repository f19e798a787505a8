"""Teams of ranks (``ranks_per_task``): a team shares one task, the harmonic stage runs on the
team's communicator, the leader records the outcome.  All under the real `mpirun -n 2`."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

from hpcglass import shards

from mpi_helpers import ROOT, mpi_env, mpirun_cmd, run_hpcglass
from test_run_mpi import _kill_when, results

pytestmark = pytest.mark.mpi

TEAM = """
run: {{seed: 23, progress_seconds: 0.5}}
ensembles:
  - {{name: lat, kind: lattice, d: 2, L: 11, realizations: 40, batch: 20}}
  - {{name: g, kind: glass, model: ipl, d: 2, N: {N}, samples: {samples}, T_p: 1.0, equilibration: 2, modes: 3,
     ranks_per_task: {rpt}}}
"""
# Fields of the harmonic stage that a distributed factorisation / eigensolver may change in the
# last digits; everything else (MD, FIRE, pair selection) is replicated and must be bit-identical.
HARMONIC = ("kappa", "G", "born", "nonaffine", "B", "sigma_yy", "eigenvalues", "lambda_low")
# Participation ratios sum v^4 over eigenvectors from a distributed eigensolver: measured 2e-11.
PARTICIPATION = ("participation", "participation_low")


def _write(tmp_path, name, rpt, N=400, samples=2):
    p = tmp_path / name
    p.write_text(TEAM.format(rpt=rpt, N=N, samples=samples))
    return p


def assert_close_results(a, b, rtol):
    ra, rb = results(a), results(b)
    assert ra.keys() == rb.keys()
    for k in ra:
        name = k.rsplit("/", 1)[-1]
        if name in HARMONIC or name in PARTICIPATION:
            tol = rtol if name in HARMONIC else max(rtol, 1e-8)
            assert np.allclose(ra[k], rb[k], rtol=tol, atol=0, equal_nan=True), (k, ra[k], rb[k])
        else:
            nan = ra[k].dtype.kind == "f"
            assert ra[k].dtype == rb[k].dtype and np.array_equal(ra[k], rb[k], equal_nan=nan), k


def test_team_of_two_equals_tasks_of_one_rank(tmp_path):
    one, two = _write(tmp_path, "one.yaml", 1), _write(tmp_path, "two.yaml", 2)
    r1 = run_hpcglass(2, "run", str(one), "--out", str(tmp_path / "one.h5"), timeout=300)
    assert r1.returncode == 0, r1.stderr
    r2 = run_hpcglass(2, "run", str(two), "--out", str(tmp_path / "two.h5"), timeout=300)
    assert r2.returncode == 0, r2.stderr
    assert "on 2 ranks (teams: g 2 ranks)" in r2.stdout and "4 tasks done, 0 failed" in r2.stdout, r2.stdout
    assert_close_results(tmp_path / "one.h5", tmp_path / "two.h5", rtol=1e-10)
    with h5py.File(tmp_path / "two.h5", "r") as h5:
        ranks = h5["tasks/rank"][()]
        assert list(ranks[2:]) == [0, 0], "a team of 2 on 2 ranks: its leader is rank 0"
        g = h5["ensembles/g"]
        mem = {k: g[k][()] for k in ("mem_peak_rank_mb", "factor_mem_mb", "factor_mem_total_mb")}
        assert all(np.all(v > 0) for v in mem.values()), mem
        assert np.all(mem["factor_mem_mb"] <= mem["factor_mem_total_mb"]), mem
    with h5py.File(tmp_path / "one.h5", "r") as h5:
        assert "mem_peak_rank_mb" not in h5["ensembles/g"], "memory is measured for teams only"
    with h5py.File(tmp_path / "two.h5", "r") as h5:
        g = h5["ensembles/g"]
        assert g["kappa"].shape[0] > 10 and np.all(g["kappa"][()] > 0) and g["eigenvalues"].shape == (2, 3)
        assert h5["provenance"].attrs["n_ranks"] == 2
    # the same input with --ranks-per-task 2 (a deployment choice, as the rank count is)
    r3 = run_hpcglass(2, "run", str(one), "--ranks-per-task", "2", "--out", str(tmp_path / "cli.h5"), timeout=300)
    assert r3.returncode == 0 and "(teams: lat 2 ranks, g 2 ranks)" in r3.stdout, r3.stdout + r3.stderr
    assert_close_results(tmp_path / "two.h5", tmp_path / "cli.h5", rtol=1e-10)


def test_failure_on_a_team_is_recorded_by_its_leader(tmp_path):
    """Task 2 fails on every team rank at its start, task 3 on team rank 1 only after it ran:
    both are recorded as failed (no hang), the run exits 3 and --retry-failed redoes them."""
    inp = _write(tmp_path, "f.yaml", 2, N=64, samples=3)
    out = tmp_path / "f.h5"
    r = run_hpcglass(2, "run", str(inp), "--out", str(out), timeout=300,
                     env=mpi_env(HPCGLASS_INJECT_FAILURE="2,3@1"))
    assert r.returncode == 3, r.stdout + r.stderr
    with h5py.File(out, "r") as h5:
        st, why = h5["tasks/status"][()], h5["tasks/reason"][()]
        assert list(np.flatnonzero(st == b"failed")) == [2, 3]
        assert why[2].startswith(b"RuntimeError: injected failure")
        assert why[3].startswith(b"team rank 1: RuntimeError: injected failure on team rank 1"), why[3]
        assert h5["ensembles/g/kappa_offsets"][()][2] == h5["ensembles/g/kappa_offsets"][()][1]
    again = run_hpcglass(2, "run", str(inp), "--out", str(out), "--resume", "--retry-failed", timeout=300)
    assert again.returncode == 0 and "3 already finished, 2 to do" in again.stdout, again.stdout + again.stderr


@pytest.mark.slow
def test_killed_team_run_resumes(tmp_path):
    inp = _write(tmp_path, "k.yaml", 2, N=400, samples=6)
    out = tmp_path / "k.h5"
    proc = subprocess.Popen(mpirun_cmd(2, "run", str(inp), "--out", str(out)), env=mpi_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    _kill_when(proc, str(out) + ".parts", min_records=4, timeout=240)  # the 2 lattice tasks + 2 samples
    assert not out.exists()
    done_before = len(shards.scan_parts(str(out) + ".parts"))
    assert 4 <= done_before < 8
    r = run_hpcglass(2, "run", str(inp), "--out", str(out), "--resume", timeout=400)
    assert r.returncode == 0 and f"{done_before} already finished" in r.stdout, r.stdout + r.stderr
    ref = run_hpcglass(2, "run", str(inp), "--out", str(tmp_path / "ref.h5"), timeout=400)
    assert ref.returncode == 0, ref.stderr
    assert_close_results(out, tmp_path / "ref.h5", rtol=1e-12)


def test_driver_team_semantics():
    """driver.run_tasks with teams of 2 on 2 ranks: every team rank runs every task on a team
    communicator of size 2, only the leader records, a non-leader's failure becomes the task's."""
    r = subprocess.run(mpirun_cmd(2, "x")[:-4] + [sys.executable, str(ROOT / "tests" / "mpi_team_driver.py")],
                       capture_output=True, text=True, timeout=120, env=mpi_env(HPCGLASS_INJECT_FAILURE="4@1"),
                       cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rank 0 recorded [(0, 'done'), (1, 'done'), (2, 'done'), (3, 'done'), (4, 'failed')]" in r.stdout, r.stdout
    assert "rank 1 recorded []" in r.stdout and "rank 1 ran [0, 1, 2, 3, 4] on teams of [2]" in r.stdout, r.stdout
    assert "team rank 1: RuntimeError: injected failure on team rank 1" in r.stdout
