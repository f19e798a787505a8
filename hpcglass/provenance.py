"""Versions of the package and of the scientific stack, recorded in every run file and by `hpcglass info`."""

from __future__ import annotations

import os
import subprocess
from importlib import import_module

from . import __version__

_LIBS = ("numpy", "scipy", "numba", "mpi4py", "h5py", "yaml", "petsc4py", "slepc4py")


def git_commit() -> str:
    """Commit of the source tree the package was imported from, or 'unknown' (installed wheel)."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if out.returncode != 0:
        return "unknown"
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def library_versions() -> dict[str, str]:
    """Versions of the Python stack plus the MPI, HDF5, PETSc and SLEPc libraries underneath."""
    out = {"hpcglass": __version__}
    for name in _LIBS:
        try:
            out[name] = getattr(import_module(name), "__version__", "?")
        except ImportError:
            out[name] = "missing"
    try:
        from mpi4py import MPI

        out["mpi_library"] = MPI.Get_library_version().replace("\x00", "").strip().splitlines()[0]
    except ImportError:
        pass
    try:
        import h5py

        out["hdf5"] = h5py.version.hdf5_version
        out["h5py_mpi"] = str(h5py.get_config().mpi)
    except ImportError:
        pass
    try:
        from .petsc_setup import petsc_versions

        out.update(petsc_versions())
    except ImportError:
        pass
    return out
