"""Ensembles -> the flat, ordered list of independent tasks of a run.

A task is the unit of work, of restart and of parallelism.  Its global index (position in
this list) is its identity: it names the task in shards and in the run file, and seeds its
random numbers through ``numpy.random.SeedSequence(root_seed, spawn_key=(index,))`` (one child of it
per stage of a glass task: :meth:`Task.stage_rngs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import RunConfig


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

    def stage_rngs(self, root_seed: int, stages) -> dict:
        """One independent generator per named stage: stage k of ``stages`` (a fixed, documented
        order; docs/output.md "Random streams") draws from child k of :meth:`seed_sequence`,
        i.e. ``SeedSequence(root_seed, spawn_key=(index, k))``.  A stage that draws more or fewer
        numbers leaves the other stages' numbers unchanged."""
        children = self.seed_sequence(root_seed).spawn(len(stages))
        return {name: np.random.default_rng(child) for name, child in zip(stages, children)}


def expand(config: RunConfig) -> list[Task]:
    """All tasks of a run, in a deterministic order (ensembles in input order; within an ensemble
    the order of its kind's ``sizes``)."""
    from .kinds import kind_of

    tasks: list[Task] = []
    for ens in config.ensembles:
        for part, size in enumerate(kind_of(ens).sizes(ens)):
            tasks.append(Task(index=len(tasks), ensemble=ens, part=part, size=size))
    return tasks
