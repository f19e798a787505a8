"""Synthetic kappa ensembles with a known small-kappa exponent, shaped like a glass's.

Used by the tests and by :mod:`analysis.window_study` to check estimators, windows, sample
bootstrap errors and outlier flags on data whose answer is known.
"""

from __future__ import annotations

import numpy as np


def clustered_ensemble(n_samples: int = 32, n_values: int = 2000, eta: float = 0.8, peak: float = 20.0,
                       width: float = 0.35, tail_weight: float = 0.05, spots: int = 3, cluster: float = 0.25,
                       dispersion: float = 1.0, seed: int = 0) -> list[np.ndarray]:
    """One array of ``n_values`` kappa values per sample.

    Each sample's values are a steep log-normal peak (median ``peak``, log-width ``width``) plus
    a tail whose share fluctuates from sample to sample (``tail_weight`` times a Gamma variate of
    mean 1 and variance ``dispersion``).  The tail values of a sample cluster around ``spots``
    soft spots: spot positions are drawn from p(k) ~ k^eta on (0, peak], and each value is its
    spot's position times exp(``cluster`` Z), Z standard normal.  A log-space jitter leaves a
    power law unchanged, so the pooled density is A k^eta for k well below peak exp(-2 cluster)
    while values of one sample are strongly correlated.
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_samples):
        w = tail_weight * (rng.gamma(1.0 / dispersion, dispersion) if dispersion > 0 else 1.0)
        n_tail = rng.binomial(n_values, min(w, 1.0))
        body = np.exp(np.log(peak) + width * rng.standard_normal(n_values - n_tail))
        spot = peak * rng.random(spots) ** (1.0 / (eta + 1.0))
        tail = spot[rng.integers(0, spots, n_tail)] * np.exp(cluster * rng.standard_normal(n_tail))
        out.append(np.concatenate([tail, body]))
    return out


def with_outlier(groups: list[np.ndarray], share: float = 0.35, kappa_scale: float = 2.0,
                 seed: int = 1) -> list[np.ndarray]:
    """The ensemble with its first sample replaced by a near-unstable one: ``share`` of its values
    drawn log-uniformly in (kappa_scale / 10, kappa_scale), the rest as before."""
    rng = np.random.default_rng(seed)
    g = np.array(groups[0], copy=True)
    m = int(share * g.size)
    g[:m] = kappa_scale * 10.0 ** (-rng.random(m))
    return [g] + list(groups[1:])
