"""Reading hpcglass run files with plain serial h5py (no MPI, no PETSc).

The schema is documented in docs/output.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import h5py
import numpy as np


class RunFileError(ValueError):
    """The path is missing or is not an hpcglass run file."""


@dataclass(frozen=True)
class Ensemble:
    """One ensemble of a run file: its name, kind ('lattice', 'glass', ...), validated parameters
    (the JSON of attribute ``params``, decoded) and the path of the file it is in.

    Every accessor opens the file read-only for the duration of the call.
    """

    path: str
    name: str
    kind: str
    params: dict

    def _group(self, h5):
        return h5["ensembles"][self.name]

    def has(self, field: str) -> bool:
        """Whether dataset ``field`` exists in the ensemble's group."""
        with h5py.File(self.path, "r") as h5:
            return field in self._group(h5)

    def is_ragged(self, field: str) -> bool:
        """Whether ``field`` is a ragged field (it has a ``<field>_offsets`` table)."""
        with h5py.File(self.path, "r") as h5:
            g = self._group(h5)
            return field in g and f"{field}_offsets" in g

    def task_index(self) -> np.ndarray:
        """int64 (n_t,): global task indices of the ensemble's tasks, ascending."""
        with h5py.File(self.path, "r") as h5:
            return self._group(h5)["task_index"][()]

    def done(self) -> np.ndarray:
        """bool (n_t,): which of the ensemble's tasks finished (status b'done')."""
        with h5py.File(self.path, "r") as h5:
            return self._group(h5)["status"][()] == b"done"

    def ragged(self, field: str) -> list[np.ndarray]:
        """A ragged field split per task: list of n_t arrays, in task order (failed tasks: empty)."""
        with h5py.File(self.path, "r") as h5:
            g = self._group(h5)
            flat, off = g[field][()], g[field + "_offsets"][()]
        return [flat[off[k]:off[k + 1]] for k in range(off.shape[0] - 1)]

    def values(self, field: str) -> np.ndarray:
        """A ragged field concatenated over the finished tasks only, in task order: shape (n_values, ...)."""
        with h5py.File(self.path, "r") as h5:
            g = self._group(h5)
            flat, off = g[field][()], g[field + "_offsets"][()]
            done = g["status"][()] == b"done"
        if done.all():
            return flat[off[0]:off[-1]]
        return np.concatenate([flat[off[k]:off[k + 1]] for k in np.flatnonzero(done)] or [flat[:0]])

    def array(self, field: str, done_only: bool = False) -> np.ndarray:
        """A fixed per-task field (n_t, ...) or a per-ensemble constant, as stored.

        With ``done_only`` the rows of failed tasks are dropped (per-task fields only).
        """
        with h5py.File(self.path, "r") as h5:
            g = self._group(h5)
            a = g[field][()]
            if done_only:
                a = a[g["status"][()] == b"done"]
        return a

    def dim(self) -> int | None:
        """The dimension: the ``d`` parameter, else the last axis of the stored positions (an
        ``analyse`` ensemble takes d from its files), else None."""
        if self.params.get("d"):
            return int(self.params["d"])
        return int(self.array("position").shape[-1]) if self.has("position") else None

    def histogram(self) -> tuple[np.ndarray, int, np.ndarray]:
        """Pre-binned kappa histogram summed over finished tasks (kind 'lattice').

        Returns (counts int64 (nbins,), below: int count under ``edges[0]``, edges float64 (nbins+1,)).
        """
        counts = self.array("hist_counts", done_only=True).sum(axis=0).astype(np.int64)
        below = int(self.array("hist_below", done_only=True).sum())
        return counts, below, self.array("hist_edges")


def provenance(path: str) -> dict:
    """The attributes of /provenance as a dict (bytes decoded to str)."""
    _check(path)
    with h5py.File(path, "r") as h5:
        attrs = dict(h5["provenance"].attrs) if "provenance" in h5 else {}
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}


def _check(path: str) -> None:
    if not os.path.exists(path):
        raise RunFileError(f"{path}: no such file")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise RunFileError(f"{path}: not an HDF5 file ({exc})") from None
    with h5:
        if "hpcglass_schema" not in h5.attrs or "ensembles" not in h5:
            raise RunFileError(f"{path}: not an hpcglass run file (no /ensembles group or no "
                               "hpcglass_schema attribute)")


def open_run(path: str) -> list[Ensemble]:
    """The ensembles of a run file, in file order. Raises RunFileError with a user message."""
    _check(path)
    with h5py.File(path, "r") as h5:
        out = []
        for name, g in h5["ensembles"].items():
            kind = g.attrs.get("kind", "")
            params = g.attrs.get("params", "{}")
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            params = params.decode() if isinstance(params, bytes) else str(params)
            out.append(Ensemble(str(path), name, kind, json.loads(params)))
        return out
