"""What one task does, step by step, for each task kind, and how its results are laid out.

A workflow returns a dict of numpy arrays.  Fields named in the kind's ``ragged`` set have a
task-dependent length along axis 0 and are stored flat with an offset table; every other field
has the same shape in every task and is stacked.  ``constants`` are per-ensemble arrays that
depend only on the validated parameters (written once per ensemble).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .tasks import Task


@dataclass(frozen=True)
class KindLayout:
    run: Callable[[Task, int], dict]
    ragged: frozenset
    constants: Callable[[object], dict]


def lattice_hist_edges(ens) -> np.ndarray:
    """Log-spaced histogram edges on [hist_min, 1], ``hist_bins_per_decade`` per decade (float64)."""
    decades = -np.log10(ens.hist_min)
    nbins = max(1, int(round(decades * ens.hist_bins_per_decade)))
    return np.logspace(np.log10(ens.hist_min), 0.0, nbins + 1)


def run_lattice(task: Task, root_seed: int) -> dict:
    """One batch of lattice-model realizations: raw kappa (float64) and its log histogram."""
    from .lattice import generator, lattice_kappa

    ens = task.ensemble
    kappa = lattice_kappa(ens.d, ens.L, task.size, generator(task.seed_sequence(root_seed)))
    edges = lattice_hist_edges(ens)
    counts, _ = np.histogram(kappa, bins=edges)
    return {
        "kappa": kappa,
        "hist_counts": counts.astype(np.int64),
        "hist_below": np.int64(np.count_nonzero(kappa < edges[0])),
    }


KINDS: dict[str, KindLayout] = {
    "lattice": KindLayout(
        run=run_lattice,
        ragged=frozenset({"kappa"}),
        constants=lambda ens: {"hist_edges": lattice_hist_edges(ens)},
    ),
}


def run_task(task: Task, root_seed: int) -> dict:
    """Execute one task; exceptions propagate to the driver, which records them as failures."""
    fields = KINDS[task.kind].run(task, root_seed)
    return {k: np.asarray(v) for k, v in fields.items()}
