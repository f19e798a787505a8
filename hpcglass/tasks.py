"""Ensembles -> the flat, ordered list of independent tasks of a run.

A task is the unit of work, of restart and of parallelism.  Its global index (position in
this list) is its identity: it names the task in shards and in the run file, and seeds its
random numbers through ``numpy.random.SeedSequence(root_seed, spawn_key=(index,))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import AnalyseEnsemble, GlassEnsemble, LatticeEnsemble, RunConfig


@dataclass(frozen=True)
class Task:
    """One independent unit of work.

    index    : global task index (0-based, input order)
    ensemble : the validated ensemble object the task belongs to
    part     : position of the task inside its ensemble
    size     : amount of work (lattice: realizations in this batch; glass, analyse: 1 sample)
    """

    index: int
    ensemble: object
    part: int
    size: int

    @property
    def kind(self) -> str:
        return self.ensemble.kind

    def seed_sequence(self, root_seed: int) -> np.random.SeedSequence:
        """The task's own seed: independent of rank count and execution order."""
        return np.random.SeedSequence(root_seed, spawn_key=(self.index,))

    def rng(self, root_seed: int) -> np.random.Generator:
        """numpy's default generator seeded with :meth:`seed_sequence`."""
        return np.random.default_rng(self.seed_sequence(root_seed))


def _split(total: int, batch: int) -> list[int]:
    full, rest = divmod(total, batch)
    return [batch] * full + ([rest] if rest else [])


def expand(config: RunConfig) -> list[Task]:
    """All tasks of a run, in a deterministic order (ensembles in input order)."""
    tasks: list[Task] = []
    for ens in config.ensembles:
        if isinstance(ens, LatticeEnsemble):
            sizes = _split(ens.realizations, ens.batch)
        elif isinstance(ens, GlassEnsemble):
            sizes = [1] * ens.samples
        elif isinstance(ens, AnalyseEnsemble):
            sizes = [1] * len(ens.files)  # one task per file, in list order
        else:  # pragma: no cover - config only admits known kinds
            raise TypeError(f"no task expansion for kind {ens.kind!r}")
        for part, size in enumerate(sizes):
            tasks.append(Task(index=len(tasks), ensemble=ens, part=part, size=size))
    return tasks
