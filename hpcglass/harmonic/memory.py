"""Per-rank memory figures of a harmonic stage, reduced over the team that shares one sample."""

from __future__ import annotations

import resource
import sys

import numpy as np

from hpcglass.petsc_setup import default_comm


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far [MiB] (getrusage ru_maxrss, monotone)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 2 ** 20 if sys.platform == "darwin" else kb / 1024.0  # bytes on macOS, KiB on Linux


def team_max(value: float, comm=None) -> float:
    """max of ``value`` over the ranks of the PETSc communicator ``comm`` (default COMM_SELF)."""
    comm = default_comm(comm)
    if comm.getSize() == 1:
        return float(value)
    return float(comm.tompi4py().allreduce(float(value), op=_mpi_max()))


def _mpi_max():
    from mpi4py import MPI

    return MPI.MAX


def memory_record(factor_info: dict, comm=None) -> dict:
    """Fixed-shape float64 scalars for the run file, the same on every rank of the team.

    mem_peak_rank_mb    : max over the team of each process's peak RSS so far [MiB]
    factor_mem_mb       : MUMPS INFOG(16), the largest per-rank memory of the factorization [MB]
                          (NaN for another factor package)
    factor_mem_total_mb : MUMPS INFOG(17), its sum over the team [MB] (NaN likewise)
    """
    nan = float("nan")
    return {"mem_peak_rank_mb": np.float64(team_max(peak_rss_mb(), comm)),
            "factor_mem_mb": np.float64(factor_info.get("mem_peak_mb", nan)),
            "factor_mem_total_mb": np.float64(factor_info.get("mem_total_mb", nan))}
