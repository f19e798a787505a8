"""YAML input -> validated, frozen configuration objects.

Every error names the file, the key (as a path such as ``ensembles[1].L``), the value found
and what was expected, and is raised before any computation starts.  Validation is a pure
function of the input text, so every MPI rank reaches the same verdict on its own.  Reading
the file, the YAML loader, the message helpers and the PETSc-option filter are hpcglass.inputfile's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .inputfile import ConfigError, _cut, _fail, _quote, load_yaml, unsafe_petsc_option
from .models import MODELS

_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,62}")
# Sizes beyond these are refused before any task list is built (docs/inputs.md).
MAX_TASKS = 1_000_000          # tasks of one input, all ensembles together
MAX_REALIZATIONS = 10**10      # kappa values of one lattice ensemble
MAX_PARTICLES = 1_000_000      # N of one glass sample
LATTICE_DIMENSIONS = (1, 2, 3, 4)
_MODEL_NAMES = ", ".join(MODELS)


def _spec(expected: str, check: Callable[[Any], bool] | None = None, doc: str = "") -> dict:
    return {"expected": expected, "check": check, "doc": doc}


def _odd_at_least_3(v: int) -> bool:
    return v >= 3 and v % 2 == 1


def _ranks_per_task():
    """The ``ranks_per_task`` key every kind has: MPI ranks that share one task (a team)."""
    return field(default=1, metadata=_spec("an integer >= 1", lambda v: v >= 1,
                                           "MPI ranks that work on one task together (a team)"))


@dataclass(frozen=True)
class LatticeEnsemble:
    """An ensemble of lattice-model realizations (paper Sec. III C).

    The ``realizations`` are split into tasks of at most ``batch`` realizations each; every task
    draws from its own seed, so the result does not depend on the number of ranks.
    """

    name: str
    kind: str
    d: int = field(metadata=_spec("an integer >= 1 (at most 4)", lambda v: v in LATTICE_DIMENSIONS, "lattice dimension"))
    L: int = field(metadata=_spec("an odd integer >= 3", _odd_at_least_3, "lattice side (sites per axis)"))
    realizations: int = field(metadata=_spec("an integer >= 1 (at most 10^10)",
                                             lambda v: 1 <= v <= MAX_REALIZATIONS, "number of kappa values"))
    batch: int = field(
        default=100_000, metadata=_spec("an integer >= 1", lambda v: v >= 1, "realizations per task")
    )
    hist_min: float = field(
        default=1e-9,
        metadata=_spec("a number in (0, 1)", lambda v: 0 < v < 1, "lowest edge of the stored log histogram"),
    )
    hist_bins_per_decade: int = field(
        default=20, metadata=_spec("an integer in [1, 1000]", lambda v: 1 <= v <= 1000, "histogram resolution")
    )
    ranks_per_task: int = _ranks_per_task()



def _positive(v) -> bool:
    return v > 0


@dataclass(frozen=True)
class GlassEnsemble:
    """An ensemble of computer-glass samples: prepare at T_p, quench, analyse (one task per sample).

    Cross-field rules (checked by :func:`_check_glass`): ``d`` must be one of the model's
    dimensions; N must split into the model's composition (IPL 50:50: even; KABLJ 80:20:
    multiple of 5).
    """

    name: str
    kind: str
    model: str = field(metadata=_spec(f"one of {_MODEL_NAMES}", lambda v: v in MODELS, "glass former"))
    d: int = field(metadata=_spec("an integer", None, "dimension (" + "; ".join(f"{n}: {', '.join(map(str, m.dimensions))}" for n, m in MODELS.items()) + ")"))
    N: int = field(metadata=_spec(f"an integer >= 2 (at most {MAX_PARTICLES})", lambda v: 2 <= v <= MAX_PARTICLES,
                                  "particles per sample"))
    samples: int = field(metadata=_spec(f"an integer >= 1 (at most {MAX_TASKS})", lambda v: 1 <= v <= MAX_TASKS,
                                        "independent samples (tasks)"))
    T_p: float = field(metadata=_spec("a number > 0", _positive, "parent temperature (epsilon/k_B)"))
    protocol: str = field(
        default="instantaneous",
        metadata=_spec("one of instantaneous, continuous", lambda v: v in ("instantaneous", "continuous"),
                       "quench: minimise right after equilibration, or cool at quench_rate first"),
    )
    density: float = field(default=0.0, metadata=_spec("a number >= 0", lambda v: v >= 0,
                                                       "number density N/V; 0 = the model's default"))
    equilibration: float = field(default=100.0, metadata=_spec("a number >= 0", lambda v: v >= 0,
                                                                "MD time (tau) or swap-MC sweeps at T_p"))
    quench_rate: float = field(default=1e-3, metadata=_spec("a number > 0", _positive, "cooling rate dT/dt"))
    dt: float = field(default=0.0, metadata=_spec("a number >= 0", lambda v: v >= 0,
                                                  "MD time step; 0 = 0.005 below T = 1, 0.0025 from T = 1"))
    ftol: float = field(default=1e-10, metadata=_spec("a number > 0", _positive, "FIRE stops at max|F| < ftol"))
    pairs: str = field(
        default="threshold",
        metadata=_spec("one of threshold, all, random", lambda v: v in ("threshold", "all", "random"),
                       "which interacting pairs get a force dipole"),
    )
    n_pairs: int = field(default=0, metadata=_spec("an integer >= 0", lambda v: v >= 0,
                                                   "pairs per sample for pairs: random (0 = all)"))
    f_max: float = field(default=1e-3, metadata=_spec("a number > 0", _positive,
                                                      "pair-force threshold for pairs: threshold"))
    modes: int = field(default=0, metadata=_spec("an integer in [0, 1000]", lambda v: 0 <= v <= 1000,
                                                 "lowest non-zero Hessian modes to compute"))
    shear_modulus: bool = field(default=True, metadata=_spec("true or false", None, "compute G (Lemaitre-Maloney)"))
    fields: int = field(default=0, metadata=_spec("an integer in [0, 100]", lambda v: 0 <= v <= 100,
                                                  "full response fields z kept for the first selected pairs (Fig. 1b)"))
    mode_vectors: int = field(default=0, metadata=_spec("an integer >= 0, at most modes", lambda v: v >= 0,
                                                        "eigenvectors kept of the lowest modes (Fig. 1a)"))
    engine: str = field(default="numba", metadata=_spec("one of numba, lammps", lambda v: v in ("numba", "lammps"),
                                                        "MD engine at T_p and in the quench (lammps: ipl, kablj in 2D/3D)"))
    ranks_per_task: int = _ranks_per_task()


def _like_glass(name: str):
    """A harmonic-stage key with the glass ensemble's default, check and doc."""
    f = GlassEnsemble.__dataclass_fields__[name]
    return field(default=f.default, metadata=f.metadata)


def _files_ok(v) -> bool:
    return len(v) >= 1 and all(isinstance(f, str) and f for f in v)


@dataclass(frozen=True)
class AnalyseEnsemble:
    """Configurations read from files (extxyz, lammps-data, h5md), one task per file: exact FIRE
    re-minimisation with the named model, then the glass task's harmonic stage.

    ``files`` relative to the input file's folder; the dimension comes from the files.  All files
    of an ensemble must hold N particles in the same dimension (N = 0: the first file's count, d = 0:
    the first file's dimension; set them when the first file may be bad).  The harmonic fields mean
    what they mean for ``glass``.
    """

    name: str
    kind: str
    model: str = field(metadata=_spec(f"one of {_MODEL_NAMES}", lambda v: v in MODELS, "glass former"))
    files: tuple = field(metadata=_spec("a non-empty list of file paths", _files_ok,
                                        "configuration files, one task each"))
    format: str = field(default="", metadata=_spec("one of extxyz, lammps-data, h5md, or empty",
                                                   lambda v: v in ("", "extxyz", "lammps-data", "h5md"),
                                                   "file format; empty: from each file name"))
    N: int = field(default=0, metadata=_spec("an integer >= 0", lambda v: v >= 0,
                                             "particles per file; 0 = the first file's count"))
    d: int = field(default=0, metadata=_spec("an integer >= 0", lambda v: v >= 0,
                                             "dimension; 0 = the first file's"))
    ftol: float = _like_glass("ftol")
    pairs: str = _like_glass("pairs")
    n_pairs: int = _like_glass("n_pairs")
    f_max: float = _like_glass("f_max")
    modes: int = _like_glass("modes")
    shear_modulus: bool = _like_glass("shear_modulus")
    fields: int = _like_glass("fields")
    mode_vectors: int = _like_glass("mode_vectors")
    ranks_per_task: int = _ranks_per_task()


def _check_glass(path: str, where: str, ens: GlassEnsemble) -> None:
    _check_dimension(path, where, ens)
    wrong_N = MODELS[ens.model].check_N(ens.N)
    if wrong_N:
        raise _fail(path, f"{where}.N", ens.N, wrong_N)
    if ens.modes > ens.d * (ens.N - 1):
        raise _fail(path, f"{where}.modes", ens.modes, f"at most d (N - 1) = {ens.d * (ens.N - 1)} non-zero modes")
    if ens.engine == "lammps":
        from .sampling.lammps_engine import check_engine

        try:
            check_engine(ens.model, ens.d)
        except ValueError as exc:
            raise _fail(path, f"{where}.engine", ens.engine, str(exc)) from None
    _check_harmonic(path, where, ens)


def _check_dimension(path: str, where: str, ens) -> None:
    """``d`` must be one of the model's dimensions (glass and analyse ensembles)."""
    dims = MODELS[ens.model].dimensions
    if ens.d not in dims:
        raise _fail(path, f"{where}.d", ens.d, f"one of {', '.join(map(str, dims))} for model {ens.model}")


def _check_harmonic(path: str, where: str, ens) -> None:
    """The harmonic-stage fields shared by glass and analyse ensembles: mode vectors within the
    modes asked for, and no force threshold for KABLJ."""
    if ens.mode_vectors > ens.modes:
        raise _fail(path, f"{where}.mode_vectors", ens.mode_vectors, f"at most modes = {ens.modes}")
    if MODELS[ens.model].attractive and ens.pairs == "threshold":
        raise _fail(path, f"{where}.pairs", ens.pairs,
                    f"all or random for {ens.model} (attractive pairs have f < 0; the paper applies no threshold)")


@dataclass(frozen=True)
class RunConfig:
    """A validated run: the run-wide settings plus the ensembles, in input order.

    ``only``: the name of the one ensemble to run (``hpcglass run --ensemble``), else None.
    """

    path: str
    text: str
    seed: int
    output: str
    name: str
    progress_seconds: float
    petsc_options: tuple[tuple[str, str], ...]
    ensembles: tuple
    only: str | None = None

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


_RUN_FIELDS: dict[str, tuple[type, Any, dict]] = {
    "seed": (int, None, _spec("an integer >= 0", lambda v: 0 <= v < 2**63, "root seed of every random number")),
    "name": (str, "", _spec("a string without control characters", lambda v: v.isprintable(), "free-form run label")),
    "output": (str, "", _spec("a file path without control characters", lambda v: len(v) > 0 and v.isprintable(),
                              "run file (default runs/<input stem>.h5)")),
    "progress_seconds": (
        float,
        10.0,
        _spec("a number > 0", lambda v: v > 0, "seconds between progress lines"),
    ),
    "petsc_options": (dict, None, _spec("a mapping of PETSc option names to values", None, "")),
}


def _coerce(path: str, key: str, value: Any, typ: type, expected: str) -> Any:
    """Type-check one scalar; YAML 1.1 reads ``1e-3`` as a string, so floats also accept numeric strings."""
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, key, value, expected)
        return value
    if typ is float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise _fail(path, key, value, expected) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(path, key, value, expected)
        return float(value)
    if not isinstance(value, typ):
        raise _fail(path, key, value, expected)
    return value


def _check_keys(path: str, where: str, mapping: Mapping, allowed) -> None:
    unknown = sorted(set(mapping) - set(allowed), key=repr)  # keys may mix ints and strings
    if unknown:
        key = unknown[0] if isinstance(unknown[0], str) else _quote(unknown[0])
        raise ConfigError(
            f"{path}: {where}{_cut(key)}: unknown key; allowed keys here are {', '.join(sorted(allowed))}"
        )


def _ensemble(path: str, i: int, raw: Any):
    where = f"ensembles[{i}]"
    if not isinstance(raw, Mapping):
        raise _fail(path, where, raw, "a mapping with at least 'name' and 'kind'")
    for key in ("name", "kind"):
        if key not in raw:
            raise ConfigError(f"{path}: {where}.{key}: missing required key")
    from .kinds import KINDS  # the registry of task kinds (it imports this module)

    kind = raw["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise _fail(path, f"{where}.kind", kind, f"one of {', '.join(sorted(KINDS))}")
    name = raw["name"]
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise _fail(path, f"{where}.name", name, "a name of letters, digits, '_', '.', '-' starting with a letter")
    cls = KINDS[kind].config
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _check_keys(path, f"{where}.", raw, fields)
    values = {"name": name, "kind": kind}
    for fname, f in fields.items():
        if fname in values:
            continue
        key = f"{where}.{fname}"
        meta = f.metadata
        if fname not in raw:
            if f.default is dataclasses.MISSING:
                raise ConfigError(f"{path}: {key}: missing required key ({meta['expected']}: {meta['doc']})")
            values[fname] = f.default
            continue
        typ = f.type if isinstance(f.type, type) else {"int": int, "float": float, "str": str, "bool": bool,
                                                        "tuple": tuple}[f.type]
        if typ is tuple:
            value = raw[fname]
            if not isinstance(value, list) or not _files_ok(value):
                raise _fail(path, key, value, meta["expected"])
            value = tuple(_relative_to(path, v) for v in value)
        else:
            value = _coerce(path, key, raw[fname], typ, meta["expected"])
        if meta["check"] is not None and not meta["check"](value):
            raise _fail(path, key, value, meta["expected"])
        values[fname] = value
    ens = cls(**values)
    if KINDS[kind].check is not None:
        KINDS[kind].check(path, where, ens)
    return ens


def _relative_to(path: str, file: str) -> str:
    """A configuration file named in an input: relative paths are relative to the input's folder."""
    import os

    if os.path.isabs(file) or path.startswith("<"):
        return file
    return os.path.normpath(os.path.join(os.path.dirname(path), file))


def _check_analyse(path: str, where: str, ens: "AnalyseEnsemble") -> None:
    if ens.d:  # 0: taken from the files
        _check_dimension(path, where, ens)
    _check_harmonic(path, where, ens)


def task_count(ens) -> int:
    """How many tasks an ensemble expands into (hpcglass.tasks.expand makes exactly these)."""
    from .kinds import kind_of

    return kind_of(ens).count(ens)


def parse_config(text: str, path: str = "<input>", output: str | None = None) -> RunConfig:
    """Validate the text of a YAML input file.

    ``path`` is used in messages and for the default output name; ``output`` (from the command
    line) overrides ``run.output``.  Raises ConfigError with a user-facing message.
    """
    doc = load_yaml(text, path)
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{path}: expected a mapping with keys 'run' and 'ensembles' at the top level")
    _check_keys(path, "", doc, ("run", "ensembles"))
    run = doc.get("run")
    if not isinstance(run, Mapping):
        raise _fail(path, "run", run, "a mapping with at least 'seed'")
    _check_keys(path, "run.", run, _RUN_FIELDS)
    settings: dict[str, Any] = {}
    for key, (typ, default, meta) in _RUN_FIELDS.items():
        if key not in run:
            if default is None and key == "seed":
                raise ConfigError(f"{path}: run.seed: missing required key ({meta['expected']})")
            settings[key] = default
            continue
        value = _coerce(path, f"run.{key}", run[key], typ, meta["expected"])
        if meta["check"] is not None and not meta["check"](value):
            raise _fail(path, f"run.{key}", value, meta["expected"])
        settings[key] = value
    petsc = settings["petsc_options"] or {}
    for k, v in petsc.items():
        if not isinstance(k, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", k):
            raise _fail(path, f"run.petsc_options.{_quote(k) if not isinstance(k, str) else _cut(k)}", k,
                        "an option name without the leading '-'")
        if isinstance(v, (dict, list)):
            raise _fail(path, f"run.petsc_options.{k}", v, "a scalar value")
        problem = unsafe_petsc_option(k, "" if v is None else str(v))
        if problem:
            raise _fail(path, f"run.petsc_options.{k}", v, problem)
    raw_ens = doc.get("ensembles")
    if not isinstance(raw_ens, list) or not raw_ens:
        raise _fail(path, "ensembles", raw_ens, "a non-empty list of ensembles")
    ensembles = tuple(_ensemble(path, i, e) for i, e in enumerate(raw_ens))
    n_tasks = sum(map(task_count, ensembles))
    if n_tasks > MAX_TASKS:
        raise ConfigError(f"{path}: ensembles: {n_tasks} tasks in all: expected at most {MAX_TASKS} "
                          "(raise batch, or split the input)")
    names = [e.name for e in ensembles]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise _fail(path, f"ensembles[{i}].name", n, "a name not used by another ensemble")
    stem = re.sub(r"\.ya?ml$", "", path.replace("\\", "/").split("/")[-1]) or "run"
    out = output or settings["output"] or f"runs/{stem}.h5"
    return RunConfig(
        path=path,
        text=text,
        seed=settings["seed"],
        output=out,
        name=settings["name"] or stem,
        progress_seconds=settings["progress_seconds"],
        petsc_options=tuple(sorted((k, "" if v is None else str(v)) for k, v in petsc.items())),
        ensembles=ensembles,
    )


def ensemble_params(ens) -> dict:
    """The ensemble's validated parameters as a plain dict (stored as JSON in the run file)."""
    return dataclasses.asdict(ens)
