"""The job template runs for real under a one-node Slurm brought up on localhost."""

import os
import subprocess

import h5py
import pytest

from mpi_helpers import ROOT
from slurm_cluster import SlurmCluster, missing_tools

pytestmark = [pytest.mark.slow, pytest.mark.mpi]

INPUT = """
run: {seed: 5, progress_seconds: 1}
ensembles:
  - {name: d2, kind: lattice, d: 2, L: 31, realizations: 600, batch: 100}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    missing = missing_tools()
    if missing:
        pytest.skip(f"Slurm not installed ({', '.join(missing)} missing): make slurm installs it")
    if os.geteuid() != 0:
        pytest.skip("the one-node test cluster runs its daemons as root")
    with SlurmCluster(tmp_path_factory.mktemp("slurm")) as c:
        yield c


def test_run_template_completes_and_resumes(cluster, tmp_path):
    inp = tmp_path / "small.yaml"
    inp.write_text(INPUT)
    out = tmp_path / "small.h5"
    env_args = ["--export=ALL,OMPI_ALLOW_RUN_AS_ROOT=1,OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
                "--ntasks=2", f"--output={tmp_path}/job-%j.out"]
    job = cluster.sbatch(*env_args, "jobs/run.sbatch", str(inp), str(out), cwd=ROOT)
    cluster.wait(job, timeout=300)
    log = (tmp_path / f"job-{job}.out").read_text()
    assert out.exists(), log
    assert "6 tasks done, 0 failed" in log and "on 2 ranks" in log, log
    with h5py.File(out, "r") as h5:
        assert h5["provenance"].attrs["n_ranks"] == 2
        assert h5["ensembles/d2/kappa"].shape == (600,)
        assert all(s == b"done" for s in h5["tasks/status"][()])
    # A requeued job finds the run complete and leaves it alone.
    job2 = cluster.sbatch(*env_args, "jobs/run.sbatch", str(inp), str(out), cwd=ROOT)
    cluster.wait(job2, timeout=120)
    assert "is complete" in (tmp_path / f"job-{job2}.out").read_text()
    squeue = subprocess.run(["squeue", "-h"], capture_output=True, text=True, env=cluster.env())
    assert squeue.returncode == 0 and not squeue.stdout.strip()


def test_array_template_runs_one_ensemble_per_element(cluster, tmp_path):
    inp = tmp_path / "two.yaml"
    inp.write_text(INPUT + "  - {name: d3, kind: lattice, d: 3, L: 7, realizations: 300, batch: 100}\n")
    job = cluster.sbatch("--export=ALL,OMPI_ALLOW_RUN_AS_ROOT=1,OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1,"
                         f"OUTDIR={tmp_path}", "--array=0-1", "--ntasks=1", f"--output={tmp_path}/job-%A_%a.out",
                         "jobs/array.sbatch", str(inp), cwd=ROOT)
    cluster.wait(job, timeout=300)
    logs = "".join(p.read_text() for p in sorted(tmp_path.glob("job-*.out")))
    for name, n in (("d2", 600), ("d3", 300)):
        out = tmp_path / f"two.{name}.h5"
        assert out.exists(), logs
        with h5py.File(out, "r") as h5:
            assert list(h5["ensembles"]) == [name] and h5["ensembles"][name]["kappa"].shape == (n,)
            assert h5["provenance"].attrs["ensemble_only"] == name


def test_run_template_runs_a_team_of_two(cluster, tmp_path):
    """RANKS_PER_TASK=2 with --ntasks=2: one team of 2 ranks shares every task (the glass
    sample's harmonic stage on the team's communicator); the leader, rank 0, records them."""
    inp = tmp_path / "team.yaml"
    inp.write_text(INPUT + "  - {name: g, kind: glass, model: ipl, d: 2, N: 64, samples: 2, T_p: 1.0, "
                           "equilibration: 1, modes: 2}\n")
    out = tmp_path / "team.h5"
    job = cluster.sbatch("--export=ALL,OMPI_ALLOW_RUN_AS_ROOT=1,OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1,RANKS_PER_TASK=2",
                         "--ntasks=2", f"--output={tmp_path}/job-%j.out", "jobs/run.sbatch", str(inp), str(out),
                         cwd=ROOT)
    cluster.wait(job, timeout=300)
    log = (tmp_path / f"job-{job}.out").read_text()
    assert out.exists(), log
    assert "on 2 ranks (teams: d2 2 ranks, g 2 ranks)" in log and "8 tasks done, 0 failed" in log, log
    with h5py.File(out, "r") as h5:
        assert set(h5["tasks/rank"][()]) == {0}
        assert h5["ensembles/g/eigenvalues"].shape == (2, 2) and (h5["ensembles/g/kappa"][()] > 0).all()
        assert '"ranks_per_task": 2' in h5["ensembles/g"].attrs["params"]
