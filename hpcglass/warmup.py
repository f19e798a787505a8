"""Warming numba's on-disk cache on one rank before the others compile.

The kernels are ``njit(cache=True)`` and compile on their first call.  On a cold cache (a fresh
install, a new numba) every rank would compile the same functions at once and write the same
cache files concurrently.  ``warm_cache`` lets rank 0 run one miniature task (the kind's
``mini`` ensemble, hpcglass.kinds) of every kind the run uses (so each kernel compiles, or
loads, with the argument types of the real tasks) while the other ranks wait; they then load the cache instead of compiling.
"""

from __future__ import annotations

import sys
import time


def warm_cache(comm, ensembles, run_task, root_seed: int) -> None:
    """Collective: rank 0 runs one miniature task per kind and ``warm_key`` (hpcglass.kinds) of
    ``ensembles`` with ``run_task(task, root_seed)``; the others wait (polling, so they leave rank 0's core alone).
    A miniature that fails is ignored: warming is an optimisation, the real task will report."""
    from .kinds import kind_of
    from .tasks import Task

    if comm.Get_rank() == 0:
        seen = set()
        for ens in ensembles:
            kind = kind_of(ens)
            key = (ens.kind, *kind.warm_key(ens))
            mini = kind.mini(ens)
            if key in seen or mini is None:
                continue
            seen.add(key)
            try:
                run_task(Task(index=0, ensemble=mini, part=0, size=1), root_seed)
            except Exception as exc:  # noqa: BLE001 - see docstring
                print(f"[hpcglass] cache warm-up of {ens.name} skipped: {type(exc).__name__}: {exc}",
                      file=sys.stderr, flush=True)
    req = comm.Ibarrier()
    while not req.Test():
        time.sleep(0.01)
