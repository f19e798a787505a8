"""The orchestration of one run, callable from Python without argv: ``run(...) -> RunSummary``.

Phases, each collective over ``comm`` (every rank calls ``run`` with the same arguments):

1. input: rank 0 reads the file and broadcasts its text; every rank validates it and reaches
   the same verdict, so a bad input raises ``BadInput`` on every rank before any compute;
2. store: rank 0 prepares (or reopens, for ``resume``) the parts folder and holds its lock;
3. compute: PETSc is initialised on every rank, numba's cache is warmed, the pending tasks are
   spread over the ranks (hpcglass.driver) and every outcome is written to the rank's shard
   (hpcglass.shards);
4. gather: the records are collected into the run file (hpcglass.store) with the provenance;
5. summary: counts and failure reasons (``RunSummary``); the parts folder is removed when
   every task is done, kept otherwise (``retry_failed`` then redoes only the failed tasks).

Errors that are not a task's own (shards or the run file unusable) propagate; a caller with
more than one rank must then abort the communicator (hpcglass.cli does), or ranks would hang.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import sys
from dataclasses import dataclass, field

# Debian's h5py loads its parallel build only when this is set (or a launcher variable is) at
# its first import; hpcglass.cli sets it too.
os.environ.setdefault("H5PY_ALWAYS_USE_MPI", "1")

EXIT_TASKS_FAILED = 3


class BadInput(ValueError):
    """The input, the command line or the output location is unusable; raised on every rank
    with the same one-line message, before any computation."""


@dataclass(frozen=True)
class RunSummary:
    """The outcome of a run (the same on every rank).

    output: run file written; n_tasks: tasks of the run (of ``ensemble`` only, if given);
    n_done, n_failed: their final status; reasons: failure reason -> count; parts_kept: the
    parts folder stays (some task failed)."""

    output: str
    n_tasks: int
    n_done: int
    n_failed: int
    reasons: dict = field(default_factory=dict)
    parts_kept: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every task is done, 3 when some failed (docs/output.md, exit codes)."""
        return EXIT_TASKS_FAILED if self.n_failed else 0


def _world(comm):
    if comm is None:
        from mpi4py import MPI

        return MPI.COMM_WORLD
    return comm


def load_config(comm, config_or_path, out: str | None = None, ensemble: str | None = None,
                petsc_args=(), ranks_per_task: int | None = None):
    """Phase 1: the validated RunConfig on every rank, or BadInput on every rank.

    ``config_or_path``: an input file path or a RunConfig; ``out`` overrides its output;
    ``ensemble`` (name or 0-based index) restricts the run to one ensemble; ``ranks_per_task``
    overrides every ensemble's team size.  The team sizes of the ensembles run must divide the
    number of ranks of ``comm``."""
    from .config import RunConfig, parse_config
    from .inputfile import ConfigError, check_petsc_argv, read_input

    rank = comm.Get_rank()
    err = None
    if isinstance(config_or_path, RunConfig):
        config = dataclasses.replace(config_or_path, output=out) if out else config_or_path
        text = None
    else:
        path = os.fspath(config_or_path)
        text = None
        if rank == 0:
            try:
                text = read_input(path)
            except ConfigError as exc:
                err = str(exc)
            except Exception as exc:  # noqa: BLE001 - reported on every rank, never left unshared
                err = f"{path}: cannot read: {type(exc).__name__}: {exc}"
        text, err = comm.bcast((text, err), root=0)
    if err is None:
        try:
            if text is not None:
                config = parse_config(text, path, output=out)
            if ensemble is not None:
                config = select_ensemble(config, str(ensemble), out)
            petsc_problem = check_petsc_argv(list(petsc_args))
            if petsc_problem:
                err = f"command line: {petsc_problem}"
            if ranks_per_task is not None:
                config = override_ranks_per_task(config, ranks_per_task)
            err = err or team_problem(config, comm.Get_size(), ranks_per_task is not None)
        except ConfigError as exc:
            err = str(exc)
    if err is not None:
        raise BadInput(err)
    return config


def override_ranks_per_task(config, ranks_per_task):
    """The config with every ensemble's ``ranks_per_task`` set to the command line's value (a
    deployment choice like the rank count: the input text, its hash and the seeds stay)."""
    from .inputfile import ConfigError

    if isinstance(ranks_per_task, bool) or not isinstance(ranks_per_task, int) or ranks_per_task < 1:
        raise ConfigError(f"command line: --ranks-per-task {ranks_per_task!r}: expected an integer >= 1")
    ensembles = tuple(dataclasses.replace(e, ranks_per_task=ranks_per_task) for e in config.ensembles)
    return dataclasses.replace(config, ensembles=ensembles)


def team_problem(config, n_ranks: int, from_command_line: bool = False) -> str | None:
    """None if ``n_ranks`` splits into teams of every ensemble's ``ranks_per_task`` (of the
    ensembles this run does), else the one-line reason."""
    for i, ens in enumerate(config.ensembles):
        r = ens.ranks_per_task
        if config.only in (None, ens.name) and n_ranks % r:
            where = (f"command line: --ranks-per-task {r}" if from_command_line
                     else f"{config.path}: ensembles[{i}].ranks_per_task = {r}")
            return (f"{where}: expected a divisor of the {n_ranks} MPI ranks of this run "
                    f"(teams of {r} ranks; start a multiple of {r} ranks)")
    return None


def team_sizes(config) -> dict[str, int]:
    """{ensemble name: ranks_per_task} of the ensembles this run does, those > 1 only."""
    return {e.name: e.ranks_per_task for e in config.ensembles
            if config.only in (None, e.name) and e.ranks_per_task > 1}


def select_ensemble(config, which: str, out: str | None):
    """The config restricted (via ``only``) to one ensemble named or numbered by ``which``;
    its default output is ``<output stem>.<ensemble name>.h5``."""
    from .inputfile import ConfigError

    names = [e.name for e in config.ensembles]
    if which in names:
        name = which
    elif which.isdigit() and int(which) < len(names):
        name = names[int(which)]
    else:
        raise ConfigError(f"{config.path}: --ensemble {which}: expected one of {', '.join(names)} "
                          f"or an index in [0, {len(names) - 1}]")
    output = out or f"{os.path.splitext(config.output)[0]}.{name}.h5"
    return dataclasses.replace(config, output=output, only=name)


def run(config_or_path, out: str | None = None, resume: bool = False, overwrite: bool = False,
        retry_failed: bool = False, ensemble: str | None = None, petsc_args=(), comm=None,
        ranks_per_task: int | None = None) -> RunSummary:
    """Run (or resume) every task of an input and write its run file; collective over ``comm``
    (an mpi4py communicator, default COMM_WORLD).  ``ranks_per_task`` overrides the team size
    of every ensemble (docs/inputs.md, "Teams of ranks").

    Raises BadInput (on every rank) for a bad input, PETSc option or output location, and
    ValueError for ``retry_failed`` without ``resume``."""
    from . import store
    from .shards import StoreError
    from .tasks import expand

    if retry_failed and not resume:
        raise ValueError("retry_failed needs resume")
    comm = _world(comm)
    config = load_config(comm, config_or_path, out, ensemble, petsc_args, ranks_per_task)
    rank = comm.Get_rank()
    tasks = [t for t in expand(config) if config.only in (None, t.ensemble.name)]
    started = _now()
    prep = lock = None
    if rank == 0:
        try:
            prep = store.prepare(config.output, config.text, config.text_sha256, len(tasks), resume, overwrite)
            lock, prep.lock = prep.lock, None  # the lock stays on rank 0 for the whole run
        except (StoreError, OSError) as exc:
            prep = str(exc)
    prep = comm.bcast(prep, root=0)
    if isinstance(prep, str):
        raise BadInput(prep)
    try:
        return _run_prepared(comm, config, tasks, prep, started, retry_failed, list(petsc_args))
    finally:
        if lock is not None:
            lock.release()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _run_prepared(comm, config, tasks, prep, started: str, retry_failed: bool, petsc_args: list) -> RunSummary:
    """Phases 3-5 after ``store.prepare``; collective."""
    from . import shards, store
    from .petsc_setup import init

    redo = shards.STATUS_FAILED if retry_failed else None
    finished = {i for i, status in prep.earlier.items() if status != redo}
    pending = [t for t in tasks if t.index not in finished]
    # PetscInitialize is collective: every rank does it here, never one rank alone later.
    init(petsc_args, dict(config.petsc_options))
    if comm.Get_rank() == 0:
        scope = f"ensemble {config.only}" if config.only else f"{len(config.ensembles)} ensembles"
        teams = team_sizes(config)
        where = f"{comm.Get_size()} ranks" + (" (teams: " + ", ".join(f"{name} {r} ranks" for name, r in teams.items())
                                             + ")" if teams else "")
        print(f"[hpcglass] {config.path}: {len(tasks)} tasks in {scope} on {where};"
              f" {len(finished)} already finished, {len(pending)} to do (attempt {prep.attempt}){prep.note};"
              f" output {config.output}", flush=True)
    parts = store.parts_dir_for(config.output)
    compute(comm, config, tasks, pending, len(finished), prep.attempt)
    records = shards.scan_parts(parts, config.text_sha256) if comm.Get_rank() == 0 else None
    records = comm.bcast(records, root=0)
    missing = [t.index for t in tasks if t.index not in records]
    if missing:
        raise RuntimeError(f"tasks {missing[:10]} have no record in {parts}")
    provenance = comm.bcast(provenance_record(config, comm.Get_size(), prep.attempt, started, petsc_args)
                            if comm.Get_rank() == 0 else None, root=0)
    write_run_file(comm, config, tasks, records, provenance)
    return summarise(comm, config, tasks, records)


def compute(comm, config, tasks, pending, already: int, attempt: int) -> None:
    """Phase 3: warm numba's cache, then run ``pending`` over the ranks of ``comm``; every outcome
    goes to the shard of attempt ``attempt`` of the rank (of the team leader) that did it.

    Tasks run in phases, one per team size, in ascending order: in each phase all ranks split
    into teams of that size and take the phase's tasks (ensembles in input order).  Collective."""
    from . import shards, store
    from .driver import Progress, run_tasks
    from .kinds import run_task

    rank = comm.Get_rank()
    writer = shards.ShardWriter(store.parts_dir_for(config.output), attempt, rank, config.text_sha256)
    progress = Progress(total=len(tasks), already=already, interval=config.progress_seconds) if rank == 0 else None
    try:
        if pending:
            from .warmup import warm_cache

            warm_cache(comm, list({id(t.ensemble): t.ensemble for t in pending}.values()), run_task, config.seed)
        for r in sorted({t.ensemble.ranks_per_task for t in pending}):
            phase = [t for t in pending if t.ensemble.ranks_per_task == r]
            run_tasks(comm, phase, lambda t, team: run_task(t, config.seed, team), writer.write, progress, r)
    finally:
        writer.close()
    comm.Barrier()


def provenance_record(config, n_ranks: int, attempt: int, started: str, petsc_args: list) -> dict:
    """The /provenance attributes of the run file (rank 0 builds them)."""
    from .provenance import git_commit, library_versions

    versions = library_versions()
    return {
        "hpcglass_version": versions["hpcglass"],
        "git_commit": git_commit(),
        "input_path": os.path.abspath(config.path),
        "input_yaml": config.text,
        "input_sha256": config.text_sha256,
        "root_seed": config.seed,
        "ensemble_only": config.only or "",
        "n_ranks": n_ranks,
        "attempts": attempt + 1,
        "started": started,
        "finished": _now(),
        "host": platform.node(),
        "command": " ".join(sys.argv),
        "petsc_options": json.dumps(dict(config.petsc_options) | {"argv": petsc_args}),
        "libraries": json.dumps(versions),
    }


def write_run_file(comm, config, tasks, records, provenance: dict) -> None:
    """Phase 4: the collective gather of every record into the run file."""
    from . import store
    from .config import ensemble_params
    from .kinds import KINDS

    ens_attrs = {e.name: {"kind": e.kind, "params": json.dumps(ensemble_params(e), sort_keys=True)}
                 for e in config.ensembles if config.only in (None, e.name)}
    store.gather(comm, config.output, tasks, records, KINDS, provenance, ens_attrs)


def summarise(comm, config, tasks, records) -> RunSummary:
    """Phase 5: rank 0 prints the counts and reasons and removes the parts folder when every
    task is done; every rank gets the same RunSummary."""
    from . import store
    from .shards import STATUS_DONE

    summary = None
    if comm.Get_rank() == 0:
        parts = store.parts_dir_for(config.output)
        failed = [r for r in records.values() if r.status != STATUS_DONE]
        reasons: dict[str, int] = {}
        for r in failed:
            reasons[r.reason] = reasons.get(r.reason, 0) + 1
        print(f"[hpcglass] wrote {config.output}: {len(tasks) - len(failed)} tasks done, {len(failed)} failed",
              flush=True)
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"[hpcglass]   {n} x {reason}", flush=True)
        if failed:
            print(f"[hpcglass] {parts} kept: `hpcglass run {config.path} --out {config.output} --resume "
                  "--retry-failed` redoes the failed tasks only", flush=True)
        else:
            import shutil

            shutil.rmtree(parts)
        summary = RunSummary(config.output, len(tasks), len(tasks) - len(failed), len(failed), reasons, bool(failed))
    summary = comm.bcast(summary, root=0)
    comm.Barrier()
    return summary
