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
    """One ensemble of a run file: its name, kind, validated parameters and the file it is in."""

    path: str
    name: str
    kind: str
    params: dict

    def _group(self, h5):
        return h5["ensembles"][self.name]

    def done(self) -> np.ndarray:
        """bool (n_t,): which of the ensemble's tasks finished."""
        with h5py.File(self.path, "r") as h5:
            return self._group(h5)["status"][()] == b"done"

    def ragged(self, field: str) -> list[np.ndarray]:
        """A ragged field split per task (failed tasks give empty arrays)."""
        with h5py.File(self.path, "r") as h5:
            g = self._group(h5)
            flat, off = g[field][()], g[field + "_offsets"][()]
        return [flat[off[k]:off[k + 1]] for k in range(off.shape[0] - 1)]

    def values(self, field: str) -> np.ndarray:
        """A ragged field concatenated over all finished tasks."""
        with h5py.File(self.path, "r") as h5:
            return self._group(h5)[field][()]

    def array(self, field: str) -> np.ndarray:
        """A fixed (per-task) field or a per-ensemble constant, as stored."""
        with h5py.File(self.path, "r") as h5:
            return self._group(h5)[field][()]

    def has(self, field: str) -> bool:
        with h5py.File(self.path, "r") as h5:
            return field in self._group(h5)


def open_run(path: str) -> list[Ensemble]:
    """The ensembles of a run file, in file order. Raises RunFileError with a user message."""
    if not os.path.exists(path):
        raise RunFileError(f"{path}: no such file")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise RunFileError(f"{path}: not an HDF5 file ({exc})") from None
    with h5:
        if "hpcglass_schema" not in h5.attrs or "ensembles" not in h5:
            raise RunFileError(f"{path}: not an hpcglass run file (no /ensembles or schema attribute)")
        return [Ensemble(path, name, g.attrs["kind"], json.loads(g.attrs["params"]))
                for name, g in h5["ensembles"].items()]
