"""Lazy access to petsc4py / slepc4py, initialised once through :mod:`hpcglass.petsc_setup`."""

from __future__ import annotations


def petsc():
    """Return the ``PETSc`` module (initialising PETSc/SLEPc on first use)."""
    from hpcglass import petsc_setup

    petsc_setup.init()
    from petsc4py import PETSc

    return PETSc


def slepc():
    """Return the ``SLEPc`` module (initialising PETSc/SLEPc on first use)."""
    from hpcglass import petsc_setup

    petsc_setup.init()
    from slepc4py import SLEPc

    return SLEPc


def default_comm(comm=None):
    """``comm`` or PETSc.COMM_SELF."""
    return petsc().COMM_SELF if comm is None else comm


def set_default_options(prefix: str, defaults: dict) -> None:
    """Put ``-{prefix}{key} value`` into the PETSc options database unless already set.

    Options given on the command line or from the input file therefore always win over these
    defaults; ``setFromOptions`` later reads the merged set.
    """
    opts = petsc().Options()
    for key, value in defaults.items():
        name = prefix + key
        if not opts.hasName(name):
            opts.setValue(name, value)
