"""Launching the real `hpcglass` under the real mpirun, for tests."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def mpi_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", PYTHONUNBUFFERED="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    env.update(extra)
    return env


def mpirun_cmd(n: int, *args: str) -> list:
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        pytest.skip("mpirun not found (install openmpi-bin: make setup)")
    return [mpirun, "-n", str(n), "--oversubscribe", sys.executable, "-m", "hpcglass", *args]


def run_hpcglass(n: int, *args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `hpcglass ARGS` on n MPI ranks; fails the test (no hang) if it outlives ``timeout``."""
    return subprocess.run(mpirun_cmd(n, *args), capture_output=True, text=True, timeout=timeout,
                          env=env or mpi_env(), cwd=ROOT)
