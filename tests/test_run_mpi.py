"""End-to-end runs of the real `hpcglass` under `mpirun -n 2`: output, identity across rank
counts, restart after kill -9, failure containment and bad inputs (no hang)."""

import json
import os
import subprocess
import time

import h5py
import numpy as np
import pytest

from hpcglass import shards
from hpcglass.kinds import MEASUREMENT_FIELDS

from mpi_helpers import ROOT, mpi_env, mpirun_cmd, run_hpcglass

pytestmark = pytest.mark.mpi

SMALL = """
run: {{seed: 11, progress_seconds: 0.5}}
ensembles:
  - {{name: d2, kind: lattice, d: 2, L: {L2}, realizations: {n2}, batch: {b2}}}
  - {{name: d3, kind: lattice, d: 3, L: 7, realizations: 900, batch: 400}}
"""


def _input(tmp_path, name="in.yaml", L2=21, n2=1000, b2=300):
    p = tmp_path / name
    p.write_text(SMALL.format(L2=L2, n2=n2, b2=b2))
    return p


def results(path) -> dict:
    """Every result dataset of a run file (not timings, ranks, provenance or the memory measurements
    of teams, kinds.MEASUREMENT_FIELDS)."""
    out = {}
    with h5py.File(path, "r") as h5:
        for key in ("index", "ensemble", "status", "reason"):
            out[f"tasks/{key}"] = h5["tasks"][key][()]

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name.rsplit("/", 1)[-1] not in MEASUREMENT_FIELDS:
                out[f"ensembles/{name}"] = obj[()]
        h5["ensembles"].visititems(visit)
    return out


def assert_same_results(a, b):
    ra, rb = results(a), results(b)
    assert ra.keys() == rb.keys()
    for k in ra:
        nan = ra[k].dtype.kind == "f"
        assert ra[k].dtype == rb[k].dtype and np.array_equal(ra[k], rb[k], equal_nan=nan), k


def test_two_ranks_end_to_end_and_identical_to_one_rank(tmp_path):
    inp = _input(tmp_path)
    r2 = run_hpcglass(2, "run", str(inp), "--out", str(tmp_path / "two.h5"), timeout=240)
    assert r2.returncode == 0, r2.stderr
    assert "tasks done, 0 failed" in r2.stdout and "ETA" in r2.stdout
    r1 = run_hpcglass(1, "run", str(inp), "--out", str(tmp_path / "one.h5"), timeout=240)
    assert r1.returncode == 0, r1.stderr
    assert not os.path.exists(tmp_path / "two.h5.parts")
    assert_same_results(tmp_path / "one.h5", tmp_path / "two.h5")
    with h5py.File(tmp_path / "two.h5", "r") as h5:
        prov = h5["provenance"].attrs
        assert prov["n_ranks"] == 2 and prov["root_seed"] == 11 and prov["input_yaml"] == inp.read_text()
        assert json.loads(prov["libraries"])["h5py_mpi"] == "True"
        assert set(h5["tasks/rank"][()]) == {0, 1}, "both ranks should have pulled tasks"
        g = h5["ensembles/d2"]
        assert g.attrs["kind"] == "lattice" and json.loads(g.attrs["params"])["L"] == 21
        off = g["kappa_offsets"][()]
        assert list(np.diff(off)) == [300, 300, 300, 100]
        kappa = g["kappa"][()]
        assert kappa.dtype == np.float64 and kappa.shape == (1000,) and 0 < kappa.min() and kappa.max() <= 1
        counts = g["hist_counts"][()].sum() + g["hist_below"][()].sum()
        assert counts == 1000
        assert np.array_equal(np.histogram(kappa, g["hist_edges"][()])[0], g["hist_counts"][()].sum(axis=0))
    # Each task's values are reproducible from its seed alone, independent of the run.
    from hpcglass.config import parse_config
    from hpcglass.tasks import expand
    from hpcglass.kinds import run_task

    task = expand(parse_config(inp.read_text(), str(inp)))[2]
    assert np.array_equal(run_task(task, 11)["kappa"], kappa[off[2]:off[3]])


def test_failed_task_is_recorded_and_run_goes_on(tmp_path):
    inp = _input(tmp_path)
    r = run_hpcglass(2, "run", str(inp), "--out", str(tmp_path / "f.h5"), timeout=240,
                     env=mpi_env(HPCGLASS_INJECT_FAILURE="1,5"))
    assert r.returncode == 3, r.stderr
    assert "--retry-failed" in r.stdout and (tmp_path / "f.h5.parts").is_dir()
    assert "2 failed" in r.stdout and "injected failure" in r.stdout
    with h5py.File(tmp_path / "f.h5", "r") as h5:
        st = h5["tasks/status"][()]
        assert list(np.flatnonzero(st == b"failed")) == [1, 5]
        assert b"injected failure" in h5["tasks/reason"][1]
        g = h5["ensembles/d2"]
        assert list(np.diff(g["kappa_offsets"][()])) == [300, 0, 300, 100]
        assert np.all(g["hist_counts"][1] == 0) and g["status"][1] == b"failed"


MIXED = """
run: {seed: 21, progress_seconds: 1}
ensembles:
  - {name: lat, kind: lattice, d: 2, L: 21, realizations: 40, batch: 20}
  - {name: g, kind: glass, model: ipl, d: 2, N: 64, samples: 2, T_p: 1.0, equilibration: 2, modes: 3,
     shear_modulus: false}
"""


def test_failed_tasks_exit_3_and_retry_failed_redoes_only_them(tmp_path):
    """The glass tasks fail for real (a factorization package PETSc does not have), the lattice
    tasks do not; --resume --retry-failed with a working solver gives the clean run's data."""
    inp = tmp_path / "mixed.yaml"
    inp.write_text(MIXED)
    out = tmp_path / "m.h5"
    r = run_hpcglass(2, "run", str(inp), "--out", str(out), "--", "-dipole_pc_factor_mat_solver_type", "nonexistent",
                     timeout=240)
    assert r.returncode == 3, r.stderr
    assert "2 tasks done, 2 failed" in r.stdout and "--retry-failed" in r.stdout
    with h5py.File(out, "r") as h5:
        assert list(h5["tasks/status"][()]) == [b"done", b"done", b"failed", b"failed"]
    plain = run_hpcglass(2, "run", str(inp), "--out", str(out), "--resume", timeout=120)
    assert plain.returncode == 3 and "4 already finished, 0 to do" in plain.stdout, plain.stderr
    retry = run_hpcglass(2, "run", str(inp), "--out", str(out), "--resume", "--retry-failed", timeout=240)
    assert retry.returncode == 0, retry.stderr
    assert "2 already finished, 2 to do" in retry.stdout and "4 tasks done, 0 failed" in retry.stdout
    assert not (tmp_path / "m.h5.parts").exists()
    with h5py.File(out, "r") as h5:
        assert list(h5["tasks/attempt"][()]) == [0, 0, 2, 2]
    ref = run_hpcglass(2, "run", str(inp), "--out", str(tmp_path / "ref.h5"), timeout=240)
    assert ref.returncode == 0, ref.stderr
    assert_same_results(out, tmp_path / "ref.h5")
    usage = run_hpcglass(1, "run", str(inp), "--out", str(out), "--retry-failed", timeout=60)
    assert usage.returncode == 2 and "--retry-failed needs --resume" in usage.stderr


def _kill_session(proc):
    """kill -9 of mpirun and of every rank it started (they share the new session)."""
    subprocess.run(["pkill", "-KILL", "-s", str(proc.pid)])
    proc.wait()
    while subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True).returncode == 0:
        time.sleep(0.05)


def _kill_when(proc, parts, min_records, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if os.path.isdir(parts) and len(shards.scan_parts(parts)) >= min_records:
            _kill_session(proc)
            return
        if proc.poll() is not None:
            pytest.fail("run ended before it could be killed: make its tasks slower")
        time.sleep(0.05)
    _kill_session(proc)
    pytest.fail("no progress to kill")


@pytest.mark.slow
def test_kill_and_resume_is_bit_identical(tmp_path):
    # 24 tasks of ~0.25 s each (d = 2, L = 201): slow enough to kill in the middle.
    inp = _input(tmp_path, L2=201, n2=6000, b2=300)
    out = tmp_path / "k.h5"
    proc = subprocess.Popen(mpirun_cmd(2, "run", str(inp), "--out", str(out)), env=mpi_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    _kill_when(proc, str(out) + ".parts", min_records=6)
    assert not out.exists()
    done_before = len(shards.scan_parts(str(out) + ".parts"))
    assert 6 <= done_before < 23
    fresh = run_hpcglass(2, "run", str(inp), "--out", str(out), timeout=60)
    assert fresh.returncode != 0 and "--resume" in fresh.stderr
    r = run_hpcglass(2, "run", str(inp), "--out", str(out), "--resume", timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"{done_before} already finished" in r.stdout
    with h5py.File(out, "r") as h5:
        assert h5["provenance"].attrs["attempts"] == 2
        assert set(h5["tasks/attempt"][()]) == {0, 1}
    ref = run_hpcglass(2, "run", str(inp), "--out", str(tmp_path / "ref.h5"), timeout=300)
    assert ref.returncode == 0, ref.stderr
    assert_same_results(out, tmp_path / "ref.h5")
    again = run_hpcglass(1, "run", str(inp), "--out", str(out), "--resume", timeout=60)
    assert again.returncode != 0 and "already complete" in again.stderr


BAD = [
    ("L: 7", "L: 8", "ensembles[1].L = 8: expected an odd integer >= 3"),
    ("L: 7", "L: 1", "ensembles[1].L = 1: expected an odd integer >= 3"),
    ("realizations: 900", "realizations: 0", "ensembles[1].realizations = 0: expected an integer >= 1"),
    ("d: 3", "d: -3", "ensembles[1].d = -3: expected an integer >= 1"),
    ("batch: 400", "batch: 400, N: 10", "ensembles[1].N: unknown key"),
    ("L: 7", "L: seven", "ensembles[1].L = 'seven': expected an odd integer >= 3"),
]


@pytest.mark.parametrize("old,new,message", BAD)
def test_bad_input_exits_fast_on_every_rank(tmp_path, old, new, message):
    inp = tmp_path / "bad.yaml"
    inp.write_text(SMALL.format(L2=21, n2=10, b2=10).replace(old, new))
    t0 = time.time()
    r = run_hpcglass(2, "run", str(inp), "--out", str(tmp_path / "b.h5"), timeout=60)
    assert r.returncode != 0 and time.time() - t0 < 60
    assert f"{inp}: {message}" in r.stderr
    assert not (tmp_path / "b.h5.parts").exists()


def test_missing_input_and_validate(tmp_path):
    r = run_hpcglass(2, "run", str(tmp_path / "nope.yaml"), timeout=60)
    assert r.returncode != 0 and "nope.yaml: cannot read" in r.stderr
    inp = _input(tmp_path)
    v = subprocess.run([*mpirun_cmd(1, "validate", str(inp))[4:]], capture_output=True, text=True, env=mpi_env())
    assert v.returncode == 0 and "2 ensembles, 7 tasks" in v.stdout


GLASS = """
run: {seed: 21, progress_seconds: 1}
ensembles:
  - {name: ipl2d, kind: glass, model: ipl, d: 2, N: 64, samples: 3, T_p: 1.0, equilibration: 2, modes: 3,
     mode_vectors: 1, fields: 2}
  - {name: ka, kind: glass, model: kablj, d: 3, N: 250, samples: 1, T_p: 0.8, equilibration: 1,
     pairs: random, n_pairs: 40, shear_modulus: false}
  - {name: poly2d, kind: glass, model: poly, d: 2, N: 100, samples: 2, T_p: 0.5, equilibration: 200}
"""


def test_glass_samples_identical_on_one_and_two_ranks(tmp_path):
    inp = tmp_path / "glass.yaml"
    inp.write_text(GLASS)
    for n, name in ((2, "two.h5"), (1, "one.h5")):
        r = run_hpcglass(n, "run", str(inp), "--out", str(tmp_path / name), timeout=300)
        assert r.returncode == 0, r.stderr
        assert "6 tasks done, 0 failed" in r.stdout, r.stdout
    assert_same_results(tmp_path / "one.h5", tmp_path / "two.h5")
    with h5py.File(tmp_path / "two.h5", "r") as h5:
        g = h5["ensembles/ipl2d"]
        assert g["position"].shape == (3, 64, 2) and np.all(g["max_force"][()] < 1e-10)
        # G of a 64-particle glass can be negative (box-shear instability); the mean is not
        assert np.all(np.isfinite(g["G"][()])) and g["G"][()].mean() > 0 and g["eigenvalues"].shape == (3, 3)
        assert np.all(g["f"][()] < 1e-3) and np.all(g["kappa"][()] > 0)
        assert "G" not in h5["ensembles/ka"] and h5["ensembles/ka/kappa"].shape == (40,)
        poly = h5["ensembles/poly2d"]
        assert np.all((poly["mc_acc_displacement"][()] > 0.25) & (poly["mc_acc_swap"][()] > 0))
        assert poly["eq_energy_halves"].shape == (2, 2) and np.all(poly["max_force"][()] < 1e-10)
        for ens in (poly, g):  # swap MC and MD: 16 block means, halves = their third and fourth quarters
            series, halves = ens["eq_energy_series"][()], ens["eq_energy_halves"][()]
            assert series.shape[1] == 16 and np.all(np.isfinite(series))
            assert np.allclose(halves, series[:, 8:].reshape(-1, 2, 4).mean(axis=2), rtol=1e-3)
        assert len(np.unique(poly["diameter"][()])) > 100  # swapped sizes, per sample
        # Fig. 1 fields: a unit-norm lowest mode and the response to the first selected dipole
        mv, z, pz = g["mode_vector"][()], g["response_field"][()], g["response_pair"][()]
        assert mv.shape == (3, 1, 64, 2) and np.allclose(np.einsum("tkia,tkia->tk", mv, mv), 1.0)
        assert z.shape == (3, 2, 64, 2) and pz.shape == (3, 2, 2)
        first = g["kappa_offsets"][0]
        assert pz[0, 0].tolist() == [g["pair_i"][first], g["pair_j"][first]]
        # H5MD view of the configurations
        assert h5["particles/ipl2d/position/value"].shape == (3, 64, 2)
        assert h5["particles/ipl2d/box"].attrs["dimension"] == 2


@pytest.mark.parametrize("old,new,message", [
    ("N: 64", "N: 0", "ensembles[0].N = 0: expected an integer >= 2"),
    ("T_p: 1.0", "T_p: -1.0", "ensembles[0].T_p = -1.0: expected a number > 0"),
    ("ipl, d: 2", "ipl, d: 5", "ensembles[0].d = 5: expected one of 2, 3, 4 for model ipl"),
    ("samples: 3", "samples: 0", "ensembles[0].samples = 0: expected an integer >= 1"),
])
def test_bad_glass_input_exits_fast_on_every_rank(tmp_path, old, new, message):
    inp = tmp_path / "bad.yaml"
    inp.write_text(GLASS.replace(old, new, 1))
    r = run_hpcglass(2, "run", str(inp), "--out", str(tmp_path / "b.h5"), timeout=60)
    assert r.returncode == 2 and f"{inp}: {message}" in r.stderr, r.stderr


def test_one_ensemble_run_equals_its_part_of_the_full_run(tmp_path):
    """`--ensemble` (job arrays): same task indices and seeds, so the same data as the full run."""
    inp = _input(tmp_path)
    full = run_hpcglass(2, "run", str(inp), "--out", str(tmp_path / "full.h5"), timeout=120)
    assert full.returncode == 0, full.stderr
    one = run_hpcglass(2, "run", str(inp), "--ensemble", "1", "--out", str(tmp_path / "d3.h5"), timeout=120)
    assert one.returncode == 0 and "tasks in ensemble d3" in one.stdout, one.stderr
    a, b = results(tmp_path / "full.h5"), results(tmp_path / "d3.h5")
    assert {k for k in b if k.startswith("ensembles/")} == {k for k in a if k.startswith("ensembles/d3")}
    for k in b:
        if k.startswith("ensembles/"):
            assert np.array_equal(a[k], b[k]), k
    bad = run_hpcglass(2, "run", str(inp), "--ensemble", "d9", timeout=60)
    assert bad.returncode == 2 and "--ensemble d9: expected one of d2, d3" in bad.stderr


def test_run_template_passes_the_exit_code_on(tmp_path):
    """jobs/run.sbatch outside Slurm (LAUNCH=env: one process): bad input exits 2 and is not
    requeued; a run file with failed tasks is not rerun unless RETRY_FAILED=1."""
    def sbatch(inp, out, **env):
        return subprocess.run(["bash", "jobs/run.sbatch", str(inp), str(out)], capture_output=True, text=True,
                              cwd=ROOT, timeout=120,
                              env=mpi_env(LAUNCH="env", HPCGLASS=str(ROOT / ".venv/bin/hpcglass"), **env))
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.format(L2=21, n2=10, b2=10).replace("L: 7", "L: 8"))
    r = sbatch(bad, tmp_path / "b.h5")
    assert r.returncode == 2 and "not requeued" in r.stdout, r.stdout + r.stderr
    out = tmp_path / "f.h5"
    out.write_bytes(b"")
    (tmp_path / "f.h5.parts").mkdir()
    r = sbatch(bad, out)
    assert r.returncode == 3 and "RETRY_FAILED=1" in r.stdout, r.stdout + r.stderr


def test_resume_redoes_damaged_and_foreign_records_and_respects_the_lock(tmp_path):
    """A run with failed tasks keeps its parts.  One flipped byte in a done record's payload and a
    shard copied from another input's run: --resume redoes those tasks, says so, and the data
    equal a clean run's.  While a test process holds the run lock, --resume is refused."""
    import fcntl

    inp = _input(tmp_path)
    out = tmp_path / "d.h5"
    r = run_hpcglass(2, "run", str(inp), "--out", str(out), timeout=240, env=mpi_env(HPCGLASS_INJECT_FAILURE="6"))
    assert r.returncode == 3, r.stderr
    parts = str(out) + ".parts"
    other = _input(tmp_path, name="other.yaml", L2=23)
    r = run_hpcglass(2, "run", str(other), "--out", str(tmp_path / "o.h5"), timeout=240,
                     env=mpi_env(HPCGLASS_INJECT_FAILURE="6"))
    assert r.returncode == 3, r.stderr
    rec = shards.scan_parts(parts)[2]
    data = bytearray(open(rec.path, "rb").read())
    data[rec.payload_offset + 100] ^= 0xFF
    open(rec.path, "wb").write(bytes(data))
    foreign = os.path.join(str(tmp_path / "o.h5.parts"), "attempt-000.rank-00000.rec")
    os.rename(foreign, os.path.join(parts, "attempt-000.rank-00009.rec"))
    with open(os.path.join(parts, "lock"), "r+") as fh:
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fh.write("host testhost pid 4242\n")
        fh.flush()
        held = run_hpcglass(2, "run", str(inp), "--out", str(out), "--resume", "--retry-failed", timeout=60)
        assert held.returncode == 2 and "a live run holds it (host testhost pid 4242)" in held.stderr, held.stderr
    r = run_hpcglass(2, "run", str(inp), "--out", str(out), "--resume", "--retry-failed", timeout=240)
    assert r.returncode == 0, r.stderr
    assert "ignored records (tasks redone): 1 with a damaged payload" in r.stdout and "of another input" in r.stdout
    assert "5 already finished, 2 to do" in r.stdout, r.stdout
    ref = run_hpcglass(2, "run", str(inp), "--out", str(tmp_path / "ref.h5"), timeout=240)
    assert ref.returncode == 0, ref.stderr
    assert_same_results(out, tmp_path / "ref.h5")


def test_numba_cache_is_written_by_rank_0_only(tmp_path):
    """On a cold numba cache rank 0 compiles (one miniature task per kind) while rank 1 waits;
    rank 1 then loads the cache and writes none of it (without the warm-up it compiled too)."""
    inp = tmp_path / "mixed.yaml"
    inp.write_text(MIXED)
    cmd = mpirun_cmd(2, "run", str(inp), "--out", str(tmp_path / "w.h5"))
    cmd.insert(cmd.index("--oversubscribe"), "--tag-output")
    env = mpi_env(NUMBA_CACHE_DIR=str(tmp_path / "numba"), NUMBA_DEBUG_CACHE="1")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(ln.startswith("[1,0]") and "[cache] data saved" in ln for ln in lines)
    assert any(ln.startswith("[1,1]") and "[cache] data loaded" in ln for ln in lines), r.stdout[-3000:]
    assert not [ln for ln in lines if ln.startswith("[1,1]") and "saved" in ln]
