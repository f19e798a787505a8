"""Warming numba's on-disk cache on one rank before the others compile.

The kernels are ``njit(cache=True)`` and compile on their first call.  On a cold cache (a fresh
install, a new numba) every rank would compile the same functions at once and write the same
cache files concurrently.  ``warm_cache`` lets rank 0 run one miniature task of every kind the
run uses (so each kernel compiles, or loads, with the argument types of the real tasks) while
the other ranks wait; they then load the cache instead of compiling.
"""

from __future__ import annotations

import dataclasses
import sys
import time

# Small sizes that every model accepts in each dimension (box side > twice the cutoff).
_MINI_N = {2: 100, 3: 250, 4: 256}


def mini_ensemble(ens):
    """A one-task copy of ``ens`` that takes the same code paths at the smallest size, or None
    for a kind without one (``analyse``: its tasks are the files it names)."""
    from .config import GlassEnsemble, LatticeEnsemble

    if isinstance(ens, LatticeEnsemble):
        return dataclasses.replace(ens, L=3, realizations=1, batch=1)
    if isinstance(ens, GlassEnsemble):
        N = min(ens.N, _MINI_N[ens.d])
        modes = min(ens.modes, 2)
        return dataclasses.replace(ens, N=N, samples=1, equilibration=min(ens.equilibration, 1.0), modes=modes,
                                   mode_vectors=min(ens.mode_vectors, modes), fields=min(ens.fields, 1),
                                   n_pairs=min(ens.n_pairs, 4), quench_rate=max(ens.quench_rate, 1.0))
    return None


def warm_cache(comm, ensembles, run_task, root_seed: int) -> None:
    """Collective: rank 0 runs one miniature task per (kind, model, d) of ``ensembles`` with
    ``run_task(task, root_seed)``; the others wait (polling, so they leave rank 0's core alone).
    A miniature that fails is ignored: warming is an optimisation, the real task will report."""
    from .tasks import Task

    if comm.Get_rank() == 0:
        seen = set()
        for ens in ensembles:
            key = (ens.kind, getattr(ens, "model", ""), ens.d, getattr(ens, "protocol", ""))
            mini = mini_ensemble(ens)
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
