"""Errors by resampling whole samples.

Values of one glass sample are correlated (its soft pairs cluster around a few soft spots), so
every per-ensemble error is the standard deviation of the statistic over bootstrap resamples of
whole samples (tasks): ``n_boot`` draws of n_samples samples with replacement (:func:`picks`),
the statistic recomputed on each pooled resample.  Draws are seeded, so every table is
reproducible.  The exponent fits resample through :class:`analysis.fits.Pool` weights
(analysis.estimates); this module holds the draws and the cheap sums-based estimators.
"""

from __future__ import annotations

import math

import numpy as np

N_BOOT = 200
SEED = 20200601


def picks(n_groups: int, n_boot: int = N_BOOT, seed: int = SEED) -> np.ndarray:
    """int64 (n_boot, n_groups): the sample indices of each resample (with replacement)."""
    return np.random.default_rng(seed).integers(0, n_groups, size=(n_boot, n_groups))


def nonempty(groups) -> list[np.ndarray]:
    """The groups as float64 arrays, empty ones dropped (a sample with no values carries no weight)."""
    return [np.asarray(g, dtype=np.float64) for g in groups if len(g)]


def spread(replicas: np.ndarray, min_ok: float = 0.9) -> float:
    """Standard deviation of bootstrap replicas; NaN when fewer than ``min_ok`` of them are finite."""
    r = np.asarray(replicas, dtype=np.float64)
    ok = np.isfinite(r)
    if r.size < 2 or ok.mean() < min_ok:
        return math.nan
    return float(r[ok].std(ddof=1))


def bootstrap_pooled_mean(groups, n_boot: int = 2000,
                          rng: np.random.Generator | None = None) -> tuple[float, float]:
    """Mean of the pooled values of ``groups`` (one array per sample) and its bootstrap standard
    error over samples, from per-sample sums (cheap).  Error NaN with fewer than 2 non-empty
    samples; ``rng`` defaults to a Generator seeded 0."""
    groups = nonempty(groups)
    if not groups:
        return math.nan, math.nan
    sums = np.array([g.sum() for g in groups])
    counts = np.array([g.size for g in groups], dtype=np.float64)
    mean = float(sums.sum() / counts.sum())
    if len(groups) < 2:
        return mean, math.nan
    p = (rng or np.random.default_rng(0)).integers(0, len(groups), size=(n_boot, len(groups)))
    return mean, float((sums[p].sum(axis=1) / counts[p].sum(axis=1)).std(ddof=1))


def bootstrap_sample_mean(x, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[float, float]:
    """(mean, bootstrap error) of one number per sample (G, U/N), finite entries only."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan
    if x.size < 2:
        return float(x.mean()), math.nan
    return float(x.mean()), float(x[picks(x.size, n_boot, seed)].mean(axis=1).std(ddof=1))


def tail_sums(groups, kmax: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample sufficient statistics of the maximum-likelihood tail fit below ``kmax``:
    (n below kmax, sum of log(k/kmax) below kmax), each (n_groups,)."""
    n = np.array([np.count_nonzero((g > 0) & (g < kmax)) for g in groups], dtype=np.float64)
    s = np.array([np.log(g[(g > 0) & (g < kmax)] / kmax).sum() for g in groups])
    return n, s


def mle_eta_fixed_kmax(groups, kmax: float, n_boot: int = N_BOOT, seed: int = SEED) -> np.ndarray:
    """Bootstrap replicas (n_boot,) of the MLE exponent on (0, kmax] with kmax held fixed: the
    closed form eta = -n / sum log(k/kmax) - 1 from per-sample sums, so a window scan is cheap."""
    groups = nonempty(groups)
    if len(groups) < 2:
        return np.full(n_boot, np.nan)
    n, s = tail_sums(groups, kmax)
    p = picks(len(groups), n_boot, seed)
    nb, sb = n[p].sum(axis=1), s[p].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(nb >= 2, -nb / sb - 1.0, np.nan)
