"""PETSc and SLEPc set-up, the one home for it: making Debian's petsc4py/slepc4py importable,
initialising them once per process with the run's options, and the lazy accessors the harmonic
stage uses (:func:`petsc`, :func:`slepc`, :func:`default_comm`).

Debian installs petsc4py and slepc4py under PETSC_DIR/SLEPC_DIR and finds them through a .pth
file that only works when the heavy -dev packages (or the variables) are present.  `make setup`
writes a .pth into the venv; this module adds the same folders when they exist and nothing
else made the modules importable, so `hpcglass` also works from Debian's plain python3.
Nothing here is imported before it is needed: importing this module loads neither library.
"""

from __future__ import annotations

import glob
import sys

_DEBIAN_GLOBS = (
    "/usr/lib/petscdir/petsc*/*-linux-gnu-real/lib/python3/dist-packages",
    "/usr/lib/slepcdir/slepc*/*-linux-gnu-real/lib/python3/dist-packages",
)


def _ensure_importable() -> None:
    for pattern in _DEBIAN_GLOBS:
        for path in sorted(glob.glob(pattern))[-1:]:
            if path not in sys.path:
                sys.path.append(path)


def init(argv: list[str] | None = None, options: dict | None = None) -> None:
    """Initialise PETSc and SLEPc once per process.

    ``argv`` are PETSc command-line options (e.g. ``['-dipole_pc_factor_mat_solver_type', 'mumps']``);
    ``options`` come from the input file and never override the command line.
    """
    _ensure_importable()
    import petsc4py

    if not getattr(init, "_done", False):
        petsc4py.init([sys.argv[0]] + list(argv or []))
        import slepc4py

        slepc4py.init([sys.argv[0]] + list(argv or []))
        init._done = True
    from petsc4py import PETSc

    opts = PETSc.Options()
    for key, value in (options or {}).items():
        if not opts.hasName(key):
            opts.setValue(key, value)


def petsc_versions() -> dict[str, str]:
    """Versions of PETSc and SLEPc (libraries, not only the bindings)."""
    init()
    import petsc4py
    from petsc4py import PETSc
    from slepc4py import SLEPc

    return {
        "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
        "slepc": ".".join(map(str, SLEPc.Sys.getVersion())),
        "petsc_dir": petsc4py.get_config().get("PETSC_DIR", "?"),
    }


# ----------------------------------------------------------------------------- lazy access
def petsc():
    """Return the ``PETSc`` module (initialising PETSc/SLEPc on first use)."""
    init()
    from petsc4py import PETSc

    return PETSc


def slepc():
    """Return the ``SLEPc`` module (initialising PETSc/SLEPc on first use)."""
    init()
    from slepc4py import SLEPc

    return SLEPc


def default_comm(comm=None):
    """``comm`` or PETSc.COMM_SELF."""
    return petsc().COMM_SELF if comm is None else comm
