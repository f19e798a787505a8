"""Reader of the "Edan format" configuration files of the Lerner group (shared/fixtures/README.md).

Line 1 starts with the box side L; each following row holds the position divided by L, then
(3D velocity files) the velocity, and last the species (0 small, 1 large) or the size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EdanConfig:
    """L: box side; x: float64 (N, d) positions in [0, L); v: float64 (N, d) or None; species:
    int64 (N,) (zeros when the last column holds sizes); sizes: float64 (N,) particle sizes
    (POLY) or None when the last column holds species; header: the numbers of line 1."""

    L: float
    x: np.ndarray
    v: np.ndarray | None
    species: np.ndarray
    header: tuple
    sizes: np.ndarray | None = None


def read_edan(path: str, d: int, velocities: bool = False, last: str = "auto") -> EdanConfig:
    """Read a d-dimensional Edan file; ``velocities`` says whether rows carry d velocity columns.

    ``last`` says what the last column is: "species" (integers; anything else is a ValueError,
    never truncated), "size" (POLY sizes, kept as float64), or "auto": species when every value
    is an integer, else sizes.
    """
    if last not in ("auto", "species", "size"):
        raise ValueError(f"last = {last!r}: expected auto, species or size")
    with open(path) as fh:
        header = tuple(float(t) for t in fh.readline().split())
        rows = np.loadtxt(fh, ndmin=2)
    expected = d * (2 if velocities else 1) + 1
    if rows.shape[1] != expected:
        raise ValueError(f"{path}: rows have {rows.shape[1]} columns, expected {expected} for d={d}")
    L = header[0]
    x = rows[:, :d] * L
    v = rows[:, d:2 * d] if velocities else None
    col = rows[:, -1]
    integral = bool(np.all(col == np.rint(col)))
    if last == "species" and not integral:
        raise ValueError(f"{path}: last column holds non-integer values (sizes?), expected species")
    if last == "size" or (last == "auto" and not integral):
        return EdanConfig(L, x, v, np.zeros(len(col), dtype=np.int64), header, col.copy())
    return EdanConfig(L, x, v, col.astype(np.int64), header)
