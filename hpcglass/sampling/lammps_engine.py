"""Equilibration and continuous quench of IPL / KABLJ glasses in LAMMPS (the ``lammps`` MD engine).

What runs where: LAMMPS (Debian's liblammps0 through its Python module ``lammps``, on a given
mpi4py communicator, domain-decomposed over its ranks) integrates NVT MD at T_p and the linear
quench T_p -> 0; hpcglass keeps the random start and the melt relaxation before, and its own
exact FIRE and harmonic analysis after.  Only the binary models (ipl, kablj) in d = 2, 3:
POLY needs swap Monte Carlo and per-particle sizes, LAMMPS has no 4D (see :func:`check_engine`).

Potential: hpcglass's own pair_phi (one definition, hpcglass.kernels.pair) tabulated per type
pair by hpcglass.lammps_io.write_lammps_table (points even in r^2 from r_inner lambda_ij to
x_c lambda_ij) and read as ``pair_style table spline n``.  The table error is measured, not
assumed: :func:`table_error` evaluates LAMMPS's interpolated phi and -phi' with ``pair_write``
(the same lookup the force loop uses) at points between the nodes and compares them with the
exact pair_phi; :func:`choose_table` doubles n until that error is below ``rel_tol``.  The error
of a force f is |f_table - f| / max(|f|, eps_ij / lambda_ij): relative where forces are large,
in units of the natural force scale eps/lambda near the cutoff where f -> 0 (same for phi with
eps).  Distances below r_inner lambda_ij are a fatal LAMMPS error, so start from a relaxed
configuration (hpcglass relaxes the random start to max|F| < 1 first).

Thermostat: LAMMPS's ``fix nvt`` (Nose-Hoover chain of 3, Tdamp = tau_T), not the Bussi
stochastic rescaling of hpcglass.sampling.md: Debian's LAMMPS lacks fix temp/csvr (EXTRA-FIX).
Both sample the canonical ensemble at T_p with d(N - 1) degrees of freedom (zero total
momentum); trajectories differ, ensemble averages agree (tests/test_lammps_engine.py).  The
quench ramps the Nose-Hoover target linearly from T_p to T_end = 1e-6 T_p (fix nvt refuses a
target of 0) over ceil((T_p - T_end) / (rate dt)) steps, the slope of md.linear_quench.

Positions go in by ``create_atoms`` and come out by ``gather_atoms`` (ordered by atom id = index
+ 1, identical on every rank of the communicator); only the table goes through a file, in a
temporary directory of rank 0 (LAMMPS reads tables on its rank 0 only).  Debian's LAMMPS is
built without C++ exceptions: a LAMMPS error aborts the MPI job, so inputs are checked here
before LAMMPS sees them.  Units: the model units (eps, lambda, tau), masses 1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np

ENGINE_MODELS = ("ipl", "kablj")
ENGINE_DIMS = (2, 3)
TABLE_REL_TOL = 1e-6        # default bound on the table error (see module docstring)
TABLE_R_INNER = 0.3         # table starts at 0.3 lambda_ij (phi_IPL = 1.7e5 eps there)
TABLE_N0 = 1000             # first table size tried by choose_table
TAU_T = 0.5                 # Nose-Hoover Tdamp, the tau_T of hpcglass.sampling.md
SKIN = 0.3                  # Verlet skin, as hpcglass.kernels.forces.VerletList
T_END_FRACTION = 1e-6       # quench target at the end, in units of T_p
_ARGS = ["-log", "none", "-screen", "none", "-nocite"]


def check_engine(model: str, d: int) -> None:
    """Raise ValueError (one line) unless the lammps engine can run ``model`` in ``d`` dimensions."""
    if model not in ENGINE_MODELS:
        raise ValueError(f"engine 'lammps' supports models {list(ENGINE_MODELS)}, not {model!r} "
                         f"(POLY is equilibrated by swap Monte Carlo)")
    if d not in ENGINE_DIMS:
        raise ValueError(f"engine 'lammps' supports d in {list(ENGINE_DIMS)}, not d = {d}")


def lammps_available() -> tuple[bool, str]:
    """(True, version) if ``lammps.lammps()`` opens with MPI support, else (False, reason)."""
    try:
        lmp = open_lammps(None)
    except Exception as err:  # ImportError, OSError (no liblammps.so), RuntimeError
        return False, f"{type(err).__name__}: {err}"
    version = str(lmp.version())
    lmp.close()
    return True, version


def open_lammps(comm=None):
    """A LAMMPS instance on the mpi4py communicator ``comm`` (COMM_SELF if None), no log or screen.

    Needs liblammps.so (Debian liblammps-dev, installed by `make setup`) and an MPI build.
    """
    from mpi4py import MPI
    import lammps

    lmp = lammps.lammps(cmdargs=list(_ARGS), comm=comm if comm is not None else MPI.COMM_SELF)
    if not lmp.has_mpi_support:
        lmp.close()
        raise RuntimeError("this LAMMPS library was built without MPI")
    return lmp


# ----------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class TableSpec:
    """A LAMMPS table of a binary model: n points per type pair from r_inner lambda_ij to the
    cutoff; force_error / energy_error: measured max error (module docstring) over that range."""

    n: int
    r_inner: float
    force_error: float
    energy_error: float


_TABLE_CACHE: dict = {}


def _model_key(model) -> tuple:
    return (model.name, model.base, float(model.xc), tuple(model.coeffs), tuple(model.lam.ravel()),
            tuple(model.eps.ravel()))


def _box_commands(model, dim_box: float) -> list[str]:
    d = model.d
    zlo, zhi = (-0.5, 0.5) if d == 2 else (0.0, dim_box)
    return ["units lj", f"dimension {d}", "atom_style atomic", "atom_modify map array",
            "boundary p p p", f"region box block 0 {dim_box!r} 0 {dim_box!r} {zlo!r} {zhi!r}",
            "create_box 2 box", "mass * 1.0"]


def _table_file(model, n: int, r_inner: float, comm) -> tuple[str, str]:
    """(temporary directory, table path), written by rank 0 of ``comm`` and known to all ranks."""
    from ..lammps_io import write_lammps_table

    rank = comm.Get_rank() if comm is not None else 0
    wd = path = error = None
    if rank == 0:
        try:
            wd = tempfile.mkdtemp(prefix="hpcglass_lmp_")
            path = os.path.join(wd, "table.txt")
            write_lammps_table(path, model, n, r_inner, fp=True)
        except Exception as e:  # noqa: BLE001 - passed to every rank, so none waits in the bcast
            error = f"{type(e).__name__}: {e}"
    if comm is not None and comm.Get_size() > 1:
        wd, path, error = comm.bcast((wd, path, error), root=0)
    if error is not None:
        raise RuntimeError(f"LAMMPS table not written on team rank 0: {error}")
    return wd, path


def _pair_lines(model, n: int, path: str) -> list[str]:
    from ..lammps_io import lammps_pair_lines

    return lammps_pair_lines(model, "table", n, "spline", path).splitlines()


def table_error(model, n: int, r_inner: float = TABLE_R_INNER, probes: int = 20011) -> tuple[float, float]:
    """(force error, energy error) of ``pair_style table spline n`` against pair_phi (serial).

    LAMMPS's ``pair_write`` evaluates the interpolated phi, -phi' at ``probes`` points even in r
    (a count prime to the table's, so they fall between the nodes) over
    (r_inner lambda_ij, x_c lambda_ij) of each type pair; the worst pair is returned.
    """
    from ..lammps_io import LAMMPS_TYPE_PAIRS
    from ..kernels.pair import pair_phi
    from ..potentials import padded

    wd, path = _table_file(model, n, r_inner, None)
    try:
        lmp = open_lammps(None)
        try:
            lmp.commands_list(_box_commands(model, 10.0 * model.xc * float(model.lam.max()))
                              + _pair_lines(model, n, path))
            out = os.path.join(wd, "pair_write.txt")
            for name, a, b in LAMMPS_TYPE_PAIRS:
                lam = float(model.lam[a, b])
                lo, hi = r_inner * lam * (1 + 1e-9), model.xc * lam * (1 - 1e-9)
                lmp.command(f"pair_write {a + 1} {b + 1} {probes} r {lo!r} {hi!r} {out} {name}")
        finally:
            lmp.close()
        blocks = _read_pair_write(out)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    err_f = err_e = 0.0
    for name, a, b in LAMMPS_TYPE_PAIRS:
        lam, eps = float(model.lam[a, b]), float(model.eps[a, b])
        r, e_tab, f_tab = blocks[name]
        exact = np.array([pair_phi(rk, lam, eps, model.base, model.xc, *padded(model.coeffs))[:2] for rk in r])
        e, f = exact[:, 0], -exact[:, 1]
        err_f = max(err_f, float(np.max(np.abs(f_tab - f) / np.maximum(np.abs(f), eps / lam))))
        err_e = max(err_e, float(np.max(np.abs(e_tab - e) / np.maximum(np.abs(e), eps))))
    return err_f, err_e


def _read_pair_write(path: str) -> dict:
    """{keyword: (r, e, f)} from a LAMMPS pair_write file."""
    blocks, lines = {}, open(path).read().splitlines()
    k = 0
    while k < len(lines):
        s = lines[k].strip()
        if s and not s.startswith("#") and k + 1 < len(lines) and lines[k + 1].startswith("N "):
            m = int(lines[k + 1].split()[1])
            data = np.loadtxt(lines[k + 3:k + 3 + m], ndmin=2)
            blocks[s] = (data[:, 1], data[:, 2], data[:, 3])
            k += 3 + m
        else:
            k += 1
    return blocks


def choose_table(model, rel_tol: float = TABLE_REL_TOL, r_inner: float = TABLE_R_INNER,
                 n0: int = TABLE_N0, n_max: int = 256000) -> TableSpec:
    """The smallest table n0 * 2^k (k >= 0) whose measured force and energy errors are below
    ``rel_tol``; cached per potential.  Raises ValueError if n_max does not reach it."""
    key = (_model_key(model), rel_tol, r_inner, n0)
    if key not in _TABLE_CACHE:
        n = n0
        while True:
            ef, ee = table_error(model, n, r_inner)
            if max(ef, ee) < rel_tol:
                break
            if 2 * n > n_max:
                raise ValueError(f"LAMMPS table error {max(ef, ee):.1e} >= {rel_tol:g} at n = {n}")
            n *= 2
        _TABLE_CACHE[key] = TableSpec(n, r_inner, ef, ee)
    return _TABLE_CACHE[key]


# ----------------------------------------------------------------------------- the system
def _check_inputs(x: np.ndarray, model) -> np.ndarray:
    check_engine(model.name, model.d)
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (model.N, model.d) or not np.all(np.isfinite(x)):
        raise ValueError(f"positions must be finite with shape ({model.N}, {model.d}), got {x.shape}")
    x = np.mod(x, model.L)
    x[x >= model.L] -= model.L  # np.mod of a tiny negative number can round up to L
    return x


def build_system(x: np.ndarray, model, table: TableSpec, comm=None, skin: float = SKIN):
    """A LAMMPS instance on ``comm`` holding the N atoms at x (N, d) (type = species + 1, id =
    index + 1) with the tabulated potential and the neighbour rule of VerletList (skin,
    rebuild when some atom moved > skin/2).  Collective on ``comm``; the caller closes it."""
    x = _check_inputs(x, model)
    N, d = x.shape
    wd, path = _table_file(model, table.n, table.r_inner, comm)
    try:
        lmp = open_lammps(comm)
        lmp.commands_list(_box_commands(model, float(model.L)) + _pair_lines(model, table.n, path)
                          + [f"neighbor {skin!r} bin", "neigh_modify every 1 delay 0 check yes",
                             "thermo_modify norm no"])
        x3 = np.zeros((N, 3))
        x3[:, :d] = x
        lmp.create_atoms(N, list(range(1, N + 1)), [int(s) + 1 for s in model.species], x3.ravel().tolist())
        made = lmp.get_natoms()
        if made != N:
            lmp.close()
            raise RuntimeError(f"LAMMPS created {made} of {N} atoms")
        if d == 2:
            lmp.command("fix e2d all enforce2d")
        # the table has been read by pair_coeff (rank 0); the file is no longer needed
    finally:
        if wd is not None and (comm is None or comm.Get_rank() == 0):
            shutil.rmtree(wd, ignore_errors=True)
    return lmp


def gather(lmp, name: str, N: int, d: int) -> np.ndarray:
    """Per-atom vector ``name`` ('x', 'v', 'f') as (N, d), ordered by atom id, on every rank."""
    return np.ctypeslib.as_array(lmp.gather_atoms(name, 1, 3)).reshape(N, 3)[:, :d].copy()


def potential_energy(lmp) -> float:
    """Total potential energy (eps) of the last step."""
    from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR

    return float(lmp.extract_compute("thermo_pe", LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR))


def lammps_energy_forces(x: np.ndarray, model, comm=None, table: TableSpec | None = None) -> tuple[float, np.ndarray]:
    """(U, F (N, d)) of the configuration x as LAMMPS computes them with the tabulated potential."""
    table = table or choose_table(model)
    lmp = build_system(x, model, table, comm)
    try:
        lmp.command("run 0")
        return potential_energy(lmp), gather(lmp, "f", model.N, model.d)
    finally:
        lmp.close()


# ----------------------------------------------------------------------------- the engine
def _lammps_seed(seed: int) -> int:
    """A LAMMPS seed in 0 < s < 2^31 - 1 (``velocity create``), hashed from ``seed``.

    LAMMPS's Park-Miller generator gives nearby seeds strongly correlated streams: seeds 100..103
    gave NVT runs whose mean temperatures scattered 7x less than independent runs'.  The hash
    (numpy's SeedSequence) makes any two distinct seeds independent, whatever the caller passes.
    """
    return int(np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0] % (2**31 - 2)) + 1


def _run_block(lmp, n: int, N: int) -> tuple[float, float]:
    """Run n steps; (mean U/N, mean kinetic T) over steps 1..n (as hpcglass.sampling.md)."""
    from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR

    lmp.commands_list(["reset_timestep 0", f"fix avg all ave/time 1 {n} {n} c_thermo_pe c_thermo_temp",
                       f"run {n}"])
    U = float(lmp.extract_fix("avg", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR, 0)) / N
    T = float(lmp.extract_fix("avg", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR, 1))
    lmp.command("unfix avg")
    return U, T


def lammps_equilibrate_quench(x: np.ndarray, model, T_p: float, dt: float, steps_eq: int,
                              quench_rate: float | None, seed: int, comm=None, *, n_blocks: int = 16,
                              tau_T: float = TAU_T, rel_tol: float = TABLE_REL_TOL,
                              skin: float = SKIN) -> tuple[np.ndarray, dict]:
    """NVT MD at T_p for steps_eq steps, then (quench_rate not None) the linear quench to ~0.

    x (N, d): relaxed start inside [0, L)^d (no pair closer than r_inner lambda_ij); model: an
    ipl or kablj PairModel, d = 2 or 3; dt, T_p, quench_rate (dT/dt) in model units; seed: the
    Maxwell velocities at T_p (``velocity create``, zero total momentum, independent of the rank
    count).  Collective on ``comm`` (COMM_SELF if None): every rank passes the same arguments.

    Returns (x (N, d) wrapped into [0, L), the same on every rank; record) with record keys
    eq_block_U (n_blocks,) mean U/N per block of the equilibration (NaN if empty),
    eq_block_T (n_blocks,) mean kinetic T per block, eq_block_steps (n_blocks,) int64 (split as
    np.array_split), quench_steps, quench_T_end, U_final (U/N at the end), table_n,
    table_force_error, table_energy_error, engine_ranks.
    """
    x = _check_inputs(x, model)
    if not (T_p > 0 and dt > 0 and steps_eq >= 0 and (quench_rate is None or quench_rate > 0)):
        raise ValueError(f"need T_p > 0, dt > 0, steps_eq >= 0, quench_rate > 0 or None; got "
                         f"T_p={T_p}, dt={dt}, steps_eq={steps_eq}, quench_rate={quench_rate}")
    N, d = x.shape
    table = choose_table(model, rel_tol)
    lmp = build_system(x, model, table, comm, skin)
    try:
        lmp.commands_list([f"timestep {dt!r}",
                           f"velocity all create {T_p!r} {_lammps_seed(seed)} dist gaussian mom yes rot no",
                           f"fix nvt all nvt temp {T_p!r} {T_p!r} {tau_T!r}"])
        lengths = [steps_eq // n_blocks + (k < steps_eq % n_blocks) for k in range(n_blocks)]
        U_b, T_b = np.full(n_blocks, np.nan), np.full(n_blocks, np.nan)
        for k, n in enumerate(lengths):
            if n:
                U_b[k], T_b[k] = _run_block(lmp, n, N)
        q_steps, T_end = 0, T_p
        if quench_rate is not None:
            T_end = T_END_FRACTION * T_p
            q_steps = int(np.ceil((T_p - T_end) / (quench_rate * dt)))
            lmp.commands_list(["unfix nvt", f"fix nvt all nvt temp {T_p!r} {T_end!r} {tau_T!r}",
                               f"run {q_steps}"])
        lmp.command("run 0")
        U_final = potential_energy(lmp) / N
        x_out = np.mod(gather(lmp, "x", N, d), model.L)
        ranks = lmp.extract_setting("world_size")
    finally:
        lmp.close()
    record = {"eq_block_U": U_b, "eq_block_T": T_b, "eq_block_steps": np.array(lengths, dtype=np.int64),
              "quench_steps": np.int64(q_steps), "quench_T_end": np.float64(T_end),
              "U_final": np.float64(U_final), "table_n": np.int64(table.n),
              "table_force_error": np.float64(table.force_error),
              "table_energy_error": np.float64(table.energy_error), "engine_ranks": np.int64(ranks)}
    return x_out, record
