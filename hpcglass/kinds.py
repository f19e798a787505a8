"""The registry of task kinds: one ``TaskKind`` object per kind says everything the rest of the
code needs to know about it.

config asks it which dataclass validates an ensemble and which cross-field checks apply; tasks
asks it how an ensemble expands into tasks; the driver's task runner asks it what a task runs
and checks every result against its field declaration; store asks it which fields are ragged,
which constants are written per ensemble and which fields the H5MD view links; warmup asks it
for the miniature ensemble that compiles numba's kernels.  Adding a kind means: a dataclass in
config.py, a workflow function, and one entry in ``KINDS`` below (docs/extending.md).

Field declarations (``TaskKind.fields``): name -> shape spec.  A spec is a tuple whose entries
are ints (a fixed length), names of ensemble attributes (that attribute's value; 0 means "not
known before the task", e.g. an analyse ensemble's N taken from its first file, and matches any
length), callables ``ens -> int``, or ``RAGGED`` as the first entry (a task-dependent length
along axis 0: the field is stored flat with an offset table).  Fields declared ``optional`` may
be absent (e.g. G when ``shear_modulus`` is false).  A result with an undeclared field, a
missing mandatory field or a shape other than the declared one is refused when the task returns
(the task is recorded as failed with a reason naming the field), never at the final gather.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import config as _config

RAGGED = "<ragged>"


class ResultLayoutError(RuntimeError):
    """A task's result does not match its kind's field declaration (a programming error)."""


@dataclass(frozen=True)
class TaskKind:
    """Everything that is specific to one task kind.

    name      : the ``kind:`` value in the input
    config    : the frozen ensemble dataclass that validates it (config.py)
    check     : ``check(path, where, ens)`` cross-field validation (raises ConfigError) or None
    count     : ``count(ens) -> int`` number of tasks (cheap: used before the task list is built)
    sizes     : ``sizes(ens) -> list[int]`` amount of work of each task, in task order
    run       : ``run(task, root_seed, comm) -> dict`` of numpy arrays; ``comm`` is the task's
                team communicator (mpi4py) or None for a task of one rank
    fields    : field name -> shape spec (module docstring); ``optional``: names that may be absent
    constants : ``constants(ens) -> dict`` per-ensemble arrays written once per ensemble
    h5md      : (position field, species field, size field) linked into /particles/<ensemble>
    mini      : ``mini(ens)`` a one-task miniature of ``ens`` for the numba warm-up, or None
    warm_key  : ``warm_key(ens)`` ensembles with the same key share one warm-up miniature
    """

    name: str
    config: type
    count: Callable
    sizes: Callable
    run: Callable
    fields: dict
    optional: frozenset = frozenset()
    check: Callable | None = None
    constants: Callable = field(default=lambda ens: {})
    h5md: tuple = ()
    mini: Callable = field(default=lambda ens: None)
    warm_key: Callable = field(default=lambda ens: ())

    @property
    def ragged(self) -> frozenset:
        """Fields with a task-dependent length along axis 0 (stored flat with offsets)."""
        return frozenset(k for k, spec in self.fields.items() if spec and spec[0] == RAGGED)

    def expected_shape(self, name: str, ens) -> tuple:
        """The declared shape of field ``name`` for ensemble ``ens``: ints, None for any length."""
        out = []
        for entry in self.fields[name]:
            if entry == RAGGED:
                out.append(None)
            elif isinstance(entry, int):
                out.append(entry)
            else:
                n = int(entry(ens) if callable(entry) else getattr(ens, entry))
                out.append(n or None)
        return tuple(out)

    def check_result(self, ens, result: dict) -> None:
        """Raise ResultLayoutError unless ``result`` (name -> array) matches ``fields``."""
        for name, arr in result.items():
            if name not in self.fields:
                raise ResultLayoutError(
                    f"kind {self.name}: result field {name!r} is not declared in hpcglass.kinds "
                    f"(declare its shape, with RAGGED first if its length varies from task to task)")
            want, got = self.expected_shape(name, ens), np.shape(arr)
            if len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got)):
                spec = tuple("n" if e == RAGGED else e if isinstance(e, (int, str)) else "f(ens)"
                             for e in self.fields[name])
                raise ResultLayoutError(
                    f"kind {self.name}: result field {name!r} has shape {got}, declared {spec} = {want} "
                    f"(None: any length; a per-pair or other variable-length field must be declared RAGGED)")
        missing = sorted(set(self.fields) - set(result) - self.optional)
        if missing:
            raise ResultLayoutError(f"kind {self.name}: result lacks declared field(s) {', '.join(missing)}")


# ----------------------------------------------------------------------------- declarations
def _lattice_bins(ens) -> int:
    from .workflows import lattice_hist_edges

    return len(lattice_hist_edges(ens)) - 1


def _lattice_constants(ens) -> dict:
    from .workflows import lattice_hist_edges

    return {"hist_edges": lattice_hist_edges(ens)}


def _lattice_sizes(ens) -> list[int]:
    full, rest = divmod(ens.realizations, ens.batch)
    return [ens.batch] * full + ([rest] if rest else [])


def _run_lattice(task, root_seed, comm=None):
    from .workflows import run_lattice

    return run_lattice(task, root_seed)


def _run_glass(task, root_seed, comm=None):
    from .glass import run_glass

    return run_glass(task, root_seed, comm=comm)


def _run_analyse(task, root_seed, comm=None):
    from .workflows import run_analyse

    return run_analyse(task, root_seed, comm=comm)


def _n_low(ens) -> int:
    from .workflows import N_LOW_MODES

    return N_LOW_MODES


def _eq_blocks(ens) -> int:
    from .workflows import EQ_BLOCKS

    return EQ_BLOCKS


def _N(ens) -> int:
    return ens.N


def _d(ens) -> int:
    return ens.d


# The harmonic stage's fields (glass and analyse): workflows.harmonic_stage.
HARMONIC_FIELDS = {
    "lambda_low": (_n_low,), "participation_low": (_n_low,), "unstable": (),
    "eigenvalues": ("modes",), "participation": ("modes",), "mode_vector": ("mode_vectors", _N, _d),
    "n_rattlers": (), "G": (), "born": (), "nonaffine": (), "B": (), "sigma_yy": (),
    "kappa": (RAGGED,), "f": (RAGGED,), "pair_i": (RAGGED,), "pair_j": (RAGGED,), "n_kappa_bad": (),
    "response_field": ("fields", _N, _d), "response_pair": ("fields", 2),
    "mem_peak_rank_mb": (), "factor_mem_mb": (), "factor_mem_total_mb": (),
}
# Machine measurements recorded beside the physics (teams only): they vary from run to run, so
# they are not results that a resumed or re-ranked run reproduces.
MEASUREMENT_FIELDS = frozenset({"mem_peak_rank_mb", "factor_mem_mb", "factor_mem_total_mb"})
HARMONIC_OPTIONAL = frozenset({"eigenvalues", "participation", "mode_vector", "G", "born", "nonaffine", "B",
                               "sigma_yy", "response_field", "response_pair"}) | MEASUREMENT_FIELDS
# The minimised configuration and its scalars (glass and analyse).
CONFIGURATION_FIELDS = {
    "energy": (), "pressure": (), "max_force": (), "fire_steps": (), "n_pairs_interacting": (),
    "position": (_N, _d), "species": (_N,), "diameter": (_N,), "box": (),
}
_H5MD = ("position", "species", "diameter")

# Small sizes that every model accepts in each dimension (box side > twice the cutoff).
_MINI_N = {2: 100, 3: 250, 4: 256}


def _mini_lattice(ens):
    import dataclasses

    return dataclasses.replace(ens, L=3, realizations=1, batch=1)


def _mini_glass(ens):
    import dataclasses

    N = min(ens.N, _MINI_N[ens.d])
    modes = min(ens.modes, 2)
    return dataclasses.replace(ens, N=N, samples=1, equilibration=min(ens.equilibration, 1.0), modes=modes,
                               mode_vectors=min(ens.mode_vectors, modes), fields=min(ens.fields, 1),
                               n_pairs=min(ens.n_pairs, 4), quench_rate=max(ens.quench_rate, 1.0))


KINDS: dict[str, TaskKind] = {
    "lattice": TaskKind(
        name="lattice", config=_config.LatticeEnsemble,
        count=lambda ens: -(-ens.realizations // ens.batch), sizes=_lattice_sizes, run=_run_lattice,
        fields={"kappa": (RAGGED,), "hist_counts": (_lattice_bins,), "hist_below": ()},
        constants=_lattice_constants,
        mini=_mini_lattice, warm_key=lambda ens: (ens.d,),
    ),
    "glass": TaskKind(
        name="glass", config=_config.GlassEnsemble, check=_config._check_glass,
        count=lambda ens: ens.samples, sizes=lambda ens: [1] * ens.samples, run=_run_glass,
        fields={**CONFIGURATION_FIELDS, "eq_energy_series": (_eq_blocks,), "eq_energy_halves": (2,),
                "md_T_mean": (), "mc_acc_displacement": (), "mc_acc_swap": (), "mc_delta": (),
                "lammps_table_force_error": (), "lammps_table_energy_error": (), **HARMONIC_FIELDS},
        optional=HARMONIC_OPTIONAL | {"md_T_mean", "mc_acc_displacement", "mc_acc_swap", "mc_delta",
                                      "lammps_table_force_error", "lammps_table_energy_error"},
        h5md=_H5MD, mini=_mini_glass, warm_key=lambda ens: (ens.model, ens.d, ens.protocol, ens.engine),
    ),
    "analyse": TaskKind(
        name="analyse", config=_config.AnalyseEnsemble, check=_config._check_analyse,
        count=lambda ens: len(ens.files), sizes=lambda ens: [1] * len(ens.files),  # one task per file
        run=_run_analyse,
        fields={**CONFIGURATION_FIELDS, "energy_input": (), "polish_displacement": (), **HARMONIC_FIELDS},
        optional=HARMONIC_OPTIONAL, h5md=_H5MD,  # no warm-up: its tasks are the files it names
    ),
}


def kind_of(ens) -> TaskKind:
    """The registered kind of a validated ensemble."""
    return KINDS[ens.kind]


def run_task(task, root_seed: int, comm=None) -> dict:
    """Execute one task and check its result against the kind's declaration; exceptions
    propagate to the driver, which records them as failures."""
    kind = kind_of(task.ensemble)
    fields = {k: np.asarray(v) for k, v in kind.run(task, root_seed, comm).items()}
    kind.check_result(task.ensemble, fields)
    return fields
