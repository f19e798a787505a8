"""Command line: `hpcglass run|validate|info|export`.

    hpcglass run INPUT.yaml [--out PATH] [--resume [--retry-failed] | --overwrite] [-- PETSC_OPTIONS...]
    hpcglass validate INPUT.yaml [...]
    hpcglass info
    hpcglass export RUN.h5 --ensemble E --sample K --format extxyz|lammps-data|h5md OUT

Under mpirun every rank runs this same entry point.  Rank 0 reads the input and broadcasts the
text; every rank validates it and reaches the same verdict, so a bad input exits on all ranks
with status 2 before any computation and without a collective left waiting.

Exit status: 0 all tasks done; 1 fatal error (all ranks aborted); 2 bad input or unusable
output location; 3 the run file is written but some tasks failed (their records stay in the
parts folder: ``--resume --retry-failed`` redoes only those).
"""

from __future__ import annotations

import os

# One thread per rank is the HPC norm; hidden BLAS/numba threads would fight MPI for the cores.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# Debian's h5py picks its serial build unless a launcher variable is set, and srun sets none.
os.environ.setdefault("H5PY_ALWAYS_USE_MPI", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402

EXIT_FATAL = 1
EXIT_BAD_INPUT = 2
EXIT_TASKS_FAILED = 3


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="hpcglass", description="Force-dipole responses in computer glasses (MPI batch).")
    p.add_argument("--version", action="version", version=f"hpcglass {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run (or --resume) the tasks of an input file; PETSc options may follow '--'")
    run.add_argument("input", help="YAML input file (see docs/inputs.md)")
    run.add_argument("--out", help="run file to write (default: run.output of the input, else runs/<stem>.h5)")
    run.add_argument("--ensemble", metavar="NAME|INDEX",
                     help="run only this ensemble (name, or 0-based position in the input; for job arrays). "
                          "Its tasks keep their indices and seeds, so the data equal those of the full run. "
                          "Default output: <output stem>.<ensemble name>.h5")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="finish an interrupted run: only unfinished tasks are done")
    mode.add_argument("--overwrite", action="store_true", help="discard an earlier run file and its parts")
    run.add_argument("--retry-failed", action="store_true",
                     help="with --resume: also redo the tasks that failed (all other tasks are kept as they are)")
    val = sub.add_parser("validate", help="check input files and print their task counts")
    val.add_argument("inputs", nargs="+")
    sub.add_parser("info", help="versions of the stack and the MPI size")
    exp = sub.add_parser("export", help="write one stored configuration as extxyz, LAMMPS data or H5MD")
    exp.add_argument("run_file", metavar="RUN.h5")
    exp.add_argument("--ensemble", required=True, help="ensemble name (glass or analyse)")
    exp.add_argument("--sample", type=int, required=True, help="0-based sample position in the ensemble")
    exp.add_argument("--format", required=True, choices=["extxyz", "lammps-data", "h5md"])
    exp.add_argument("out", metavar="OUT")
    return p


def _split_petsc(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        k = argv.index("--")
        return argv[:k], argv[k + 1:]
    return argv, []


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, petsc_args = _split_petsc(argv)
    parser = _parser()
    args = parser.parse_args(ours)
    if getattr(args, "retry_failed", False) and not args.resume:
        parser.error("--retry-failed needs --resume")
    if args.command == "validate":
        return _validate(args.inputs)
    if args.command == "info":
        return _info()
    if args.command == "export":
        return _export(args)
    return _run(args, petsc_args)


def _validate(paths: list[str]) -> int:
    from .config import ConfigError, parse_config, read_input
    from .tasks import expand

    status = 0
    for path in paths:
        try:
            cfg = parse_config(read_input(path), path)
            tasks = expand(cfg)
            print(f"{path}: ok: {len(cfg.ensembles)} ensembles, {len(tasks)} tasks, output {cfg.output}")
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_BAD_INPUT
    return status


def _export(args) -> int:
    """hpcglass export: serial, no MPI; a bad request exits 2 with one line."""
    from .configio import ConfigurationError, from_run_file, write_configuration

    try:
        conf, model = from_run_file(args.run_file, args.ensemble, args.sample)
        write_configuration(args.out, conf, model, args.format)
    except OSError as exc:
        print(f"error: {args.run_file}: cannot read: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {args.out}: {args.format}, {model} d={conf.d} N={conf.N} L={conf.L!r}")
    return 0


def _info() -> int:
    from mpi4py import MPI

    from .provenance import git_commit, library_versions

    comm = MPI.COMM_WORLD
    if comm.Get_rank() == 0:
        versions = library_versions()
        print(f"hpcglass {versions['hpcglass']} (commit {git_commit()})")
        print(f"python {platform.python_version()} at {sys.executable}")
        for k, v in versions.items():
            print(f"  {k:12s} {v}")
        print(f"MPI size {comm.Get_size()}, thread level {MPI.Query_thread()}")
    return 0


def _run(args, petsc_args: list[str]) -> int:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    # Phase 1: input.  Errors are user errors: every rank exits 2, rank 0 prints the message.
    # Whatever rank 0 meets before the broadcast travels in it: no rank may wait for ever.
    from .config import ConfigError, check_petsc_argv, parse_config, read_input

    text = err = None
    if rank == 0:
        try:
            text = read_input(args.input)
        except ConfigError as exc:
            err = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported on every rank, never left unshared
            err = f"{args.input}: cannot read: {type(exc).__name__}: {exc}"
    text, err = comm.bcast((text, err), root=0)
    if err is None:
        try:
            config = parse_config(text, args.input, output=args.out)
            if args.ensemble is not None:
                config = _one_ensemble(config, args.ensemble, args.out)
            petsc_problem = check_petsc_argv(petsc_args)
            if petsc_problem:
                err = f"command line: {petsc_problem}"
        except ConfigError as exc:
            err = str(exc)
    if err is not None:
        if rank == 0:
            print(f"error: {err}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT
    try:
        return _run_config(comm, config, args, petsc_args)
    except Exception:
        # Not a task failure (those are contained in the driver): shards or the run file are
        # unusable. Abort the whole job rather than leave other ranks in a collective.
        print(f"[hpcglass] rank {rank}: fatal error, aborting all ranks", file=sys.stderr, flush=True)
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        comm.Abort(EXIT_FATAL)
        return EXIT_FATAL


def _one_ensemble(config, which: str, out: str | None):
    """The config restricted (via ``only``) to one ensemble named or numbered by ``which``."""
    from .config import ConfigError

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


def _run_config(comm, config, args, petsc_args: list[str]) -> int:
    from . import store
    from .tasks import expand

    rank = comm.Get_rank()
    tasks = [t for t in expand(config) if config.only in (None, t.ensemble.name)]
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    prep = lock = None
    if rank == 0:
        try:
            prep = store.prepare(config.output, config.text, config.text_sha256, len(tasks), args.resume, args.overwrite)
            lock, prep.lock = prep.lock, None  # the lock stays on rank 0 for the whole run
        except (store.StoreError, OSError) as exc:
            prep = str(exc)
    prep = comm.bcast(prep, root=0)
    if isinstance(prep, str):
        if rank == 0:
            print(f"error: {prep}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT
    try:
        return _run_prepared(comm, config, args, petsc_args, tasks, started, prep)
    finally:
        if lock is not None:
            lock.release()


def _run_prepared(comm, config, args, petsc_args: list[str], tasks, started: str, prep) -> int:
    """The run after ``store.prepare``: compute the pending tasks, gather, report; collective."""
    from . import store
    from .config import ensemble_params
    from .driver import Progress, run_tasks
    from .provenance import git_commit, library_versions
    from .kinds import KINDS, run_task

    rank, size = comm.Get_rank(), comm.Get_size()
    attempt, earlier = prep.attempt, prep.earlier
    redo = store.STATUS_FAILED if args.retry_failed else None
    finished = {i for i, status in earlier.items() if status != redo}
    pending = [t for t in tasks if t.index not in finished]
    # PetscInitialize is collective: every rank does it here, never one rank alone later.
    from .petsc_setup import init

    init(petsc_args, dict(config.petsc_options))
    if rank == 0:
        scope = f"ensemble {config.only}" if config.only else f"{len(config.ensembles)} ensembles"
        print(f"[hpcglass] {config.path}: {len(tasks)} tasks in {scope} on {size} ranks;"
              f" {len(finished)} already finished, {len(pending)} to do (attempt {attempt}){prep.note}; output {config.output}",
              flush=True)
    parts = store.parts_dir_for(config.output)
    writer = store.ShardWriter(parts, attempt, rank, config.text_sha256)
    progress = Progress(total=len(tasks), already=len(finished), interval=config.progress_seconds) if rank == 0 else None
    try:
        if pending:
            from .warmup import warm_cache

            warm_cache(comm, list({id(t.ensemble): t.ensemble for t in pending}.values()), run_task, config.seed)
        run_tasks(comm, pending, lambda t: run_task(t, config.seed), writer.write, progress)
    finally:
        writer.close()
    comm.Barrier()
    records = store.scan_parts(parts, config.text_sha256) if rank == 0 else None
    records = comm.bcast(records, root=0)
    missing = [t.index for t in tasks if t.index not in records]
    if missing:
        raise RuntimeError(f"tasks {missing[:10]} have no record in {parts}")
    provenance = None
    if rank == 0:
        provenance = {
            "hpcglass_version": library_versions()["hpcglass"],
            "git_commit": git_commit(),
            "input_path": os.path.abspath(config.path),
            "input_yaml": config.text,
            "input_sha256": config.text_sha256,
            "root_seed": config.seed,
            "ensemble_only": config.only or "",
            "n_ranks": size,
            "attempts": attempt + 1,
            "started": started,
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(),
            "command": " ".join(sys.argv),
            "petsc_options": json.dumps(dict(config.petsc_options) | {"argv": petsc_args}),
            "libraries": json.dumps(library_versions()),
        }
    provenance = comm.bcast(provenance, root=0)
    ens_attrs = {e.name: {"kind": e.kind, "params": json.dumps(ensemble_params(e), sort_keys=True)}
                 for e in config.ensembles if config.only in (None, e.name)}
    store.gather(comm, config.output, tasks, records, KINDS, provenance, ens_attrs)
    if rank == 0:
        failed = [r for r in records.values() if r.status != store.STATUS_DONE]
        reasons: dict[str, int] = {}
        for r in failed:
            reasons[r.reason] = reasons.get(r.reason, 0) + 1
        print(f"[hpcglass] wrote {config.output}: {len(tasks) - len(failed)} tasks done, {len(failed)} failed", flush=True)
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"[hpcglass]   {n} x {reason}", flush=True)
        if failed:
            print(f"[hpcglass] {parts} kept: `hpcglass run {config.path} --out {config.output} --resume "
                  "--retry-failed` redoes the failed tasks only", flush=True)
        else:
            import shutil

            shutil.rmtree(parts)
    n_failed = comm.bcast(sum(r.status != store.STATUS_DONE for r in records.values()), root=0)
    comm.Barrier()
    return EXIT_TASKS_FAILED if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
