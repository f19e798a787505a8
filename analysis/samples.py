"""Per-sample diagnostics of a glass ensemble and the rules that flag outlier samples.

A single glass next to a mechanical instability can hold a large share of an ensemble's
small-kappa values and move its exponent on its own; these rules find such samples so that every
ensemble statistic can be reported with and without them (docs/analysis.md, "Flagged samples").

Rules (each gives a flag name; a sample may carry several):

* ``unstable``: the glass task found a non-positive Hessian eigenvalue beyond the translations
  (stored field ``unstable`` > 0): a saddle or a floppy sample, not a minimum.
* ``G_low``: G more than G_MADS scaled median absolute deviations (1.4826 MAD, sigma for a
  Gaussian) below the ensemble median.  G is near-Gaussian over samples, so a 5-sigma cut flags
  3e-7 of normal samples.
* ``lambda1_low``: the lowest non-zero eigenvalue more than a factor LAMBDA_FACTOR below the
  ensemble median.  lambda_1 is the minimum of a density ~ omega^4, so P(lambda_1 < x) ~ x^(5/2):
  a factor 20 below the median holds ln 2 * 20^-2.5 = 4e-4 of normal samples, whereas a MAD rule
  on lambda_1 would flag a few per cent of them.
* ``window_share``: the sample holds more than max(SHARE_MIN, SHARE_PER_SAMPLE / n_samples) of
  the ensemble's values in the fit window (below its kmax); only where the window holds at
  least SHARE_MIN_VALUES values (with fewer, a share is counting noise).
"""

from __future__ import annotations

import numpy as np

G_MADS = 5.0
LAMBDA_FACTOR = 20.0
SHARE_MIN = 0.2
SHARE_PER_SAMPLE = 3.0
SHARE_MIN_VALUES = 20


def robust_low(x: np.ndarray, n_mads: float = G_MADS) -> np.ndarray:
    """bool: finite entries more than ``n_mads`` scaled MADs below the median of the finite entries."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    out = np.zeros(x.shape, dtype=bool)
    if ok.sum() < 3:
        return out
    med = np.median(x[ok])
    mad = 1.4826 * np.median(np.abs(x[ok] - med))
    out[ok] = x[ok] < med - n_mads * mad if mad > 0 else False
    return out


def window_shares(groups, kmax: float) -> np.ndarray:
    """float64 (n_groups,): each sample's share of all values below kmax; NaN where fewer than
    SHARE_MIN_VALUES values lie below kmax."""
    n = np.array([np.count_nonzero(np.asarray(g) < kmax) for g in groups], dtype=np.float64)
    return n / n.sum() if n.sum() >= SHARE_MIN_VALUES else np.full(n.shape, np.nan)


def flags(G, lambda1, unstable, shares) -> list[str]:
    """The flag names of each sample, joined by '+' ('' for an unflagged sample).

    All inputs are (n_samples,) arrays; NaN (not stored) never flags.  ``unstable``: counts of
    non-positive eigenvalues (0 when not stored)."""
    G, lam, shares = (np.asarray(a, dtype=np.float64) for a in (G, lambda1, shares))
    n = shares.size
    rules = {
        "unstable": np.asarray(unstable) > 0,
        "G_low": robust_low(G),
        "lambda1_low": lam < np.nanmedian(lam) / LAMBDA_FACTOR if np.isfinite(lam).any() else np.zeros(n, bool),
        "window_share": shares > max(SHARE_MIN, SHARE_PER_SAMPLE / max(n, 1)),
    }
    return ["+".join(name for name, hit in rules.items() if hit[k]) for k in range(n)]
