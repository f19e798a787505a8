"""mpi4py scheduling: ranks pull tasks dynamically from rank 0, progress, error containment.

Rank 0 hands out task indices from a queue.  A helper thread on rank 0 answers the other ranks'
requests while rank 0's main thread computes tasks of its own from the same queue, so no core
sits idle as a pure master.  The thread polls with ``Iprobe`` and a short sleep instead of a
blocking receive, because OpenMPI's blocking receive spins and would steal rank 0's core.

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
# Fault injection for tests of the failure path: comma-separated task indices that must fail.
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


def execute(task, run: Callable, sink: Callable) -> bool:
    """Run one task, turn an exception into a recorded failure, hand the outcome to ``sink``.

    ``sink(index, status, wall_time, reason, fields)`` persists the outcome.  Returns True if
    the task succeeded.
    """
    t0 = time.perf_counter()
    try:
        if str(task.index) in _INJECTED_FAILURES:
            raise RuntimeError("injected failure (HPCGLASS_INJECT_FAILURE)")
        fields = run(task)
        status, reason = "done", ""
    except Exception as exc:  # a failing task must not stop the run
        fields, status = {}, "failed"
        reason = f"{type(exc).__name__}: {exc}"
        print(f"[hpcglass] task {task.index} failed: {reason}", file=sys.stderr, flush=True)
        if not getattr(exc, "user_error", False):  # a bad input file: its one line says it all
            traceback.print_exc(file=sys.stderr)
    sink(task.index, status, time.perf_counter() - t0, reason, fields)
    return status == "done"


def run_tasks(comm, pending: list, run: Callable, sink: Callable, progress: Progress | None) -> int:
    """Execute ``pending`` tasks over all ranks of ``comm``; returns how many this rank did.

    Collective over ``comm``.  ``progress`` is used on rank 0 only.
    """
    rank, size = comm.Get_rank(), comm.Get_size()
    by_index = {t.index: t for t in pending}
    if size == 1:
        for t in pending:
            ok = execute(t, run, sink)
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
                report(execute(by_index[idx], run, sink))
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
                finished = execute(by_index[idx], run, sink)
                count += 1
    finally:
        sched.Free()
    return count
