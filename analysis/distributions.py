"""Log-binned probability densities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LogPdf:
    """A normalised density on log-spaced bins.

    edges (nb+1,), centres (nb,) geometric bin centres, pdf (nb,) in 1/[kappa],
    counts (nb,) raw counts, total: number of values the normalisation refers to.
    """

    edges: np.ndarray
    centres: np.ndarray
    pdf: np.ndarray
    counts: np.ndarray
    total: int


def log_edges(lo: float, hi: float, per_decade: int) -> np.ndarray:
    """Log-spaced edges from lo to hi (both > 0), ``per_decade`` bins per decade (at least one bin)."""
    nb = max(1, int(np.ceil(np.log10(hi / lo) * per_decade - 1e-9)))
    return np.logspace(np.log10(lo), np.log10(hi), nb + 1)


def pdf_from_counts(counts: np.ndarray, edges: np.ndarray, total: int | None = None) -> LogPdf:
    """Density from binned counts; ``total`` includes values outside the bins (default: sum of counts)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum()) if total is None else int(total)
    widths = np.diff(edges)
    pdf = counts / (total * widths) if total else np.zeros_like(widths)
    return LogPdf(edges, np.sqrt(edges[:-1] * edges[1:]), pdf, counts, total)


def pdf_from_histogram(counts: np.ndarray, below: int, edges: np.ndarray) -> LogPdf:
    """Density from a pre-binned histogram such as the lattice ``hist_counts``.

    ``counts`` (nbins,) or (n_t, nbins) (summed over the first axis), ``below`` the number of values
    under ``edges[0]`` (int or array, summed), ``edges`` (nbins+1,). Normalised by the total count
    including ``below``, so the pdf is the density of all values, not only of those in range.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim == 2:
        counts = counts.sum(axis=0)
    below = int(np.sum(below))
    return pdf_from_counts(counts, np.asarray(edges, dtype=np.float64), total=int(counts.sum()) + below)


def log_binned_pdf(values: np.ndarray, per_decade: int = 10, lo: float | None = None,
                   hi: float | None = None) -> LogPdf:
    """Normalised density of positive ``values`` (n,) on log bins, ``per_decade`` bins per decade.

    Range [lo, hi] defaults to the data's. Normalised by the number of positive values, including
    any outside [lo, hi]. Returns a LogPdf (edges, geometric centres, pdf in 1/[kappa], counts).
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[values > 0]
    lo = values.min() * (1 - 1e-12) if lo is None else lo
    hi = values.max() * (1 + 1e-12) if hi is None else hi
    edges = log_edges(lo, hi, per_decade)
    counts, _ = np.histogram(values, bins=edges)
    return pdf_from_counts(counts, edges, total=values.size)
