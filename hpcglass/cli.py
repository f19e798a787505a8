"""Command line: `hpcglass run|validate|info|export`.

    hpcglass run INPUT.yaml [--out PATH] [--ensemble E] [--ranks-per-task K] [--resume [--retry-failed] | --overwrite]
                 [-- PETSC_OPTIONS...]
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
import platform  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402

EXIT_FATAL = 1
EXIT_BAD_INPUT = 2


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
    run.add_argument("--ranks-per-task", type=int, metavar="K",
                     help="team size of every ensemble (overrides ranks_per_task of the input; the number of "
                          "ranks must be a multiple of it; docs/inputs.md)")
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
    from .config import parse_config
    from .inputfile import ConfigError, read_input
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
    """hpcglass run: delegates to hpcglass.run.run; maps its outcome to the exit status."""
    from mpi4py import MPI

    from .run import BadInput, run

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    try:
        summary = run(args.input, out=args.out, resume=args.resume, overwrite=args.overwrite,
                      retry_failed=args.retry_failed, ensemble=args.ensemble, petsc_args=petsc_args, comm=comm,
                      ranks_per_task=args.ranks_per_task)
    except BadInput as exc:  # raised on every rank alike: nobody waits in a collective
        if rank == 0:
            print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT
    except Exception:
        # Not a task failure (those are contained in the driver): shards or the run file are
        # unusable. Abort the whole job rather than leave other ranks in a collective.
        print(f"[hpcglass] rank {rank}: fatal error, aborting all ranks", file=sys.stderr, flush=True)
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        comm.Abort(EXIT_FATAL)
        return EXIT_FATAL
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
