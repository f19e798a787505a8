"""mpi4py scheduling: ranks (or teams of ranks) pull tasks dynamically from rank 0, progress,
error containment.

Rank 0 hands out task indices from a queue.  A helper thread on rank 0 answers the other ranks'
requests while rank 0's main thread computes tasks of its own from the same queue, so no core
sits idle as a pure master.  The thread polls with ``Iprobe`` and a short sleep instead of a
blocking receive, because OpenMPI's blocking receive spins and would steal rank 0's core.

Teams (``ranks_per_task`` > 1): the communicator is split into teams of consecutive ranks; the
team leaders are scheduled as single ranks are, and every rank of a team runs the leader's task
with the team communicator.  An exception is contained per rank and the outcomes are gathered on
the leader, so a team agrees that a task failed (no hang) as long as the failing rank was not
inside a collective that its team mates are still waiting in (the stages before the harmonic
analysis are replicated and deterministic, so they fail on every team rank alike).

A task that raises is recorded as failed with its reason and the run goes on.  Anything else
that goes wrong on a rank is fatal; the caller aborts the communicator so no rank hangs.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable

_TAG_REQUEST = 11
_TAG_REPLY = 12
_STOP = -1
# Fault injection for tests of the failure path: comma-separated task indices that must fail on
# every rank at their start, or INDEX@R: on team rank R only, after the task ran.
_INJECTED_FAILURES = frozenset(filter(None, os.environ.get("HPCGLASS_INJECT_FAILURE", "").split(",")))


@dataclass
class Progress:
    """Counts and rate of one run; ``line`` renders the progress line printed by rank 0."""

    total: int
    already: int
    interval: float
    done: int = 0
    failed: int = 0
    started: float = 0.0
    last_print: float = 0.0
    last_line: str = ""

    def __post_init__(self):
        self.started = self.last_print = time.monotonic()

    def record(self, ok: bool) -> None:
        self.done += 1
        self.failed += 0 if ok else 1

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = self.total - self.already - self.done
        eta = left / rate if rate > 0 else float("inf")
        eta_s = _hms(eta) if eta != float("inf") else "?"
        return (f"[hpcglass] {self.already + self.done}/{self.total} tasks"
                f" ({100.0 * (self.already + self.done) / max(self.total, 1):.1f}%), {self.failed} failed,"
                f" {rate:.3g} tasks/s, elapsed {_hms(elapsed)}, ETA {eta_s}")

    def maybe_print(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last_print >= self.interval:
            line = self.line()
            if line != self.last_line:  # the closing call would often repeat the last line
                print(line, flush=True)
            self.last_print, self.last_line = now, line


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _injected(index: int, team_rank: int | None) -> str:
    """Which injected failure applies to task ``index`` on this rank: 'start' (every rank, before
    the task runs), 'end' (``INDEX@R``: team rank R only, after the task ran), or ''."""
    if str(index) in _INJECTED_FAILURES:
        return "start"
    if team_rank is not None and f"{index}@{team_rank}" in _INJECTED_FAILURES:
        return "end"
    return ""


def execute(task, run: Callable, sink: Callable, team=None) -> bool:
    """Run one task, turn an exception into a recorded failure, hand the outcome to ``sink``.

    ``run(task, team)`` computes the fields; ``team`` is the task's team communicator (mpi4py)
    or None for a task of one rank.  On a team every rank runs the task; the outcomes are
    gathered on the team leader (team rank 0), which alone calls ``sink``: the task failed if it
    failed on any team rank (reason: the leader's, else ``team rank R: ...``).
    ``sink(index, status, wall_time, reason, fields)`` persists the outcome.  Returns True if
    the task succeeded (on the leader: as recorded; elsewhere: on this rank).
    """
    t0 = time.perf_counter()
    team_rank = None if team is None else team.Get_rank()
    try:
        if _injected(task.index, team_rank) == "start":
            raise RuntimeError("injected failure (HPCGLASS_INJECT_FAILURE)")
        fields = run(task, team)
        if _injected(task.index, team_rank) == "end":
            raise RuntimeError(f"injected failure on team rank {team_rank} (HPCGLASS_INJECT_FAILURE)")
        status, reason = "done", ""
    except Exception as exc:  # a failing task must not stop the run
        fields, status = {}, "failed"
        reason = f"{type(exc).__name__}: {exc}"
        print(f"[hpcglass] task {task.index} failed: {reason}", file=sys.stderr, flush=True)
        if not getattr(exc, "user_error", False):  # a bad input file: its one line says it all
            traceback.print_exc(file=sys.stderr)
    if team is not None:
        outcomes = team.gather((status, reason), root=0)
        if team_rank != 0:
            return status == "done"
        if status == "done":
            bad = [(r, why) for r, (st, why) in enumerate(outcomes) if st != "done"]
            if bad:
                fields, status, reason = {}, "failed", f"team rank {bad[0][0]}: {bad[0][1]}"
    sink(task.index, status, time.perf_counter() - t0, reason, fields)
    return status == "done"


def run_tasks(comm, pending: list, run: Callable, sink: Callable, progress: Progress | None,
              ranks_per_task: int = 1) -> int:
    """Execute ``pending`` tasks over all ranks of ``comm``; returns how many this rank did.

    Collective over ``comm``.  ``progress`` is used on rank 0 only.  With ``ranks_per_task``
    R > 1 (R must divide the size of ``comm``), ``comm`` is split into teams of R consecutive
    ranks; the team leaders (team rank 0) take tasks from the scheduler as single ranks do, each
    leader broadcasts the task index to its team, every team rank runs the task with the team
    communicator (``run(task, team)``) and the leader records the outcome (:func:`execute`).
    """
    if ranks_per_task == 1:
        return _schedule(comm, pending, lambda t: execute(t, run, sink), progress)
    from mpi4py import MPI

    rank = comm.Get_rank()
    by_index = {t.index: t for t in pending}
    team = comm.Split(color=rank // ranks_per_task, key=rank)
    leader = team.Get_rank() == 0
    leaders = comm.Split(color=0 if leader else MPI.UNDEFINED, key=rank)
    count = 0
    try:
        if leader:
            def one(t) -> bool:
                team.bcast(t.index, root=0)
                return execute(t, run, sink, team)

            count = _schedule(leaders, pending, one, progress)
            team.bcast(_STOP, root=0)
        else:
            while (idx := team.bcast(None, root=0)) != _STOP:
                execute(by_index[idx], run, sink, team)
                count += 1
    finally:
        if leaders != MPI.COMM_NULL:
            leaders.Free()
        team.Free()
    return count


def _schedule(comm, pending: list, one: Callable, progress: Progress | None) -> int:
    """Dynamic scheduling of ``pending`` over the ranks of ``comm``: ``one(task) -> ok`` runs a
    task; rank 0 serves the queue from a thread and computes tasks of its own."""
    rank, size = comm.Get_rank(), comm.Get_size()
    by_index = {t.index: t for t in pending}
    if size == 1:
        for t in pending:
            ok = one(t)
            progress.record(ok)
            progress.maybe_print()
        progress.maybe_print(force=True)
        return len(pending)

    sched = comm.Dup()
    count = 0
    try:
        if rank == 0:
            queue = [t.index for t in pending]
            lock = threading.Lock()
            errors: list[BaseException] = []

            def take() -> int:
                with lock:
                    return queue.pop(0) if queue else _STOP

            def report(ok: bool) -> None:
                with lock:
                    progress.record(ok)
                    progress.maybe_print()

            def serve() -> None:
                from mpi4py import MPI

                stopped = 0
                status = MPI.Status()
                try:
                    while stopped < size - 1:
                        if not sched.Iprobe(source=MPI.ANY_SOURCE, tag=_TAG_REQUEST, status=status):
                            time.sleep(0.002)
                            continue
                        src = status.Get_source()
                        finished = sched.recv(source=src, tag=_TAG_REQUEST)
                        if finished is not None:
                            report(finished)
                        nxt = take()
                        stopped += nxt == _STOP
                        sched.send(nxt, dest=src, tag=_TAG_REPLY)
                except BaseException as exc:  # surfaced to the main thread, which aborts
                    errors.append(exc)

            server = threading.Thread(target=serve, name="hpcglass-scheduler", daemon=True)
            server.start()
            while (idx := take()) != _STOP:
                report(one(by_index[idx]))
                count += 1
            server.join()
            if errors:
                raise errors[0]
            progress.maybe_print(force=True)
        else:
            finished = None
            while True:
                sched.send(finished, dest=0, tag=_TAG_REQUEST)
                idx = sched.recv(source=0, tag=_TAG_REPLY)
                if idx == _STOP:
                    break
                finished = one(by_index[idx])
                count += 1
    finally:
        sched.Free()
    return count
