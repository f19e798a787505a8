"""Per-ensemble exponent estimates with sample-bootstrap errors, window scans and the
cumulative distribution: what a referee asks for before believing an exponent.

``groups`` is always one array of kappa values per sample (task); only finite positive values
enter (see :func:`clean`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import bootstrap as bs
from .fits import MIN_WINDOW_VALUES, EtaFit, Pool, Window, fit_pool


def clean(groups) -> tuple[list[np.ndarray], np.ndarray]:
    """(groups with only finite kappa > 0, int64 (n_groups,) count of values dropped per group)."""
    kept, dropped = [], []
    for g in groups:
        g = np.asarray(g, dtype=np.float64)
        ok = np.isfinite(g) & (g > 0)
        kept.append(g[ok])
        dropped.append(int(g.size - ok.sum()))
    return kept, np.array(dropped, dtype=np.int64)


@dataclass(frozen=True)
class EtaEstimate:
    """Both fits on one window with errors by resampling whole samples.

    lsq may be None (too few bins); err_*_boot: standard deviation over ``n_boot`` resamples of
    the samples, the window rule redone on each; A_err_boot the same for the MLE prefactor.
    """

    lsq: EtaFit | None
    mle: EtaFit
    n_samples: int
    err_mle_boot: float
    err_lsq_boot: float
    A_err_boot: float


def estimate(groups, window: Window, per_decade: int = 10, min_counts: int = 10,
             n_boot: int = bs.N_BOOT, seed: int = bs.SEED) -> EtaEstimate:
    """:class:`EtaEstimate` of the pooled values of ``groups``; ValueError when the window cannot
    be fitted on the pooled data (fewer than MIN_WINDOW_VALUES values, above the peak)."""
    groups = bs.nonempty(groups)
    pool = Pool(groups, per_decade)
    lsq, mle = fit_pool(pool, window, per_decade, min_counts)
    reps = np.full((n_boot, 3), np.nan)
    if len(groups) >= 2:
        for b, idx in enumerate(bs.picks(len(groups), n_boot, seed)):
            try:
                l, m = fit_pool(pool, window, per_decade, min_counts, w=np.bincount(idx, minlength=len(groups)),
                                lsq=lsq is not None)
            except ValueError:
                continue
            reps[b] = (m.eta, l.eta if l else np.nan, m.A)
    return EtaEstimate(lsq, mle, len(groups), bs.spread(reps[:, 0]),
                       bs.spread(reps[:, 1]) if lsq else math.nan, bs.spread(reps[:, 2]))


def window_scan(groups, per_decade: int = 10, decades: float = 1.5, start: float = 0.5,
                n_boot: int = bs.N_BOOT, seed: int = bs.SEED) -> dict:
    """MLE eta on (0, kmax] for kmax from ``start`` times the peak of p(kappa) down over
    ``decades`` decades (``per_decade`` steps per decade), stopping where a window holds fewer
    than MIN_WINDOW_VALUES values.  Returns arrays 'kmax', 'frac_of_peak', 'n_tail', 'eta',
    'err_boot' (sample bootstrap, kmax fixed) and 'err_naive' ((eta+1)/sqrt(n), pairs taken as
    independent), plus the scalar 'peak'."""
    groups = bs.nonempty(groups)
    peak = Pool(groups, per_decade).peak()
    rows = []
    for j in range(int(round(decades * per_decade)) + 1):
        kmax = start * peak * 10.0 ** (-j / per_decade)
        n, s = bs.tail_sums(groups, kmax)
        if n.sum() < MIN_WINDOW_VALUES:
            break
        eta = -n.sum() / s.sum() - 1.0
        rows.append((kmax, kmax / peak, n.sum(), eta, bs.spread(bs.mle_eta_fixed_kmax(groups, kmax, n_boot, seed)),
                     (eta + 1.0) / math.sqrt(n.sum())))
    cols = np.array(rows, dtype=np.float64).reshape(-1, 6).T
    return {"peak": peak, **dict(zip(("kmax", "frac_of_peak", "n_tail", "eta", "err_boot", "err_naive"), cols))}


def cumulative(values: np.ndarray, per_decade: int = 10, span: float = 0.5) -> dict:
    """Unbinned F(kappa) = fraction of values <= kappa, and its local exponent
    d log F / d log kappa - 1 (the eta of p ~ kappa^eta where F is a power law), from F on a log
    grid (``per_decade`` points per decade) differenced over ``span`` decades.

    Returns 'kappa', 'F' (the sorted values and their ranks / n) and 'grid', 'F_grid',
    'local_eta' (NaN where F is 0 at either end of the difference)."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = v.size
    F = np.arange(1, n + 1) / n
    e = np.arange(np.floor(np.log10(v[0]) * per_decade), np.ceil(np.log10(v[-1]) * per_decade) + 1)
    grid = 10.0 ** (e / per_decade)
    Fg = np.searchsorted(v, grid, side="right") / n
    h = 10.0 ** (span / 2)
    lo = np.searchsorted(v, grid / h, side="right") / n
    hi = np.searchsorted(v, grid * h, side="right") / n
    with np.errstate(divide="ignore", invalid="ignore"):
        local = np.where((lo > 0) & (hi > 0), np.log(hi / lo) / np.log(h * h) - 1.0, np.nan)
    return {"kappa": v, "F": F, "grid": grid, "F_grid": Fg, "local_eta": local}
