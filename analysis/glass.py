"""Per-ensemble statistics of glass samples: kappa_g with bootstrap errors, G, equilibration
check, the kappa-f scatter, mode statistics, and the curves of Figs. 6 and 8.

All functions take arrays or :class:`analysis.io.Ensemble` objects and return numbers; the
figures are drawn in :mod:`analysis.plots`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .bootstrap import bootstrap_pooled_mean, bootstrap_sample_mean
from .fits import EtaFit
from .io import Ensemble


def mean_sem(x: np.ndarray) -> tuple[float, float]:
    """(mean, standard error of the mean) of the finite entries of x; sem NaN below 2 entries."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else math.nan


@dataclass(frozen=True)
class GlassSummary:
    """Scalars of one glass ensemble (finished samples only).

    kappa_g: mean kappa over the selected pairs of all samples, error by bootstrap over samples;
    G, energy: sample means with standard errors; eq_shift: mean over samples of the fourth-quarter
    minus third-quarter U/N at T_p (``eq_energy_halves``) in units of its standard error
    (|eq_shift| >~ 3: the sampling at T_p had not become stationary).
    """

    group: str
    ensemble: str
    model: str
    d: int
    N: int
    T_p: float
    protocol: str
    pairs: str
    samples: int
    n_kappa: int
    kappa_g: float
    kappa_g_err: float
    G: float
    G_err: float
    energy: float
    energy_err: float
    eq_shift: float
    subset: str = "all"
    n_excluded: int = 0


def summarize(ens: Ensemble, group: str = "", exclude: np.ndarray | None = None) -> GlassSummary:
    """:class:`GlassSummary` of a glass ensemble of a run file over its finished samples, less
    those marked in ``exclude`` (bool (n_t,), the flagged samples; subset 'unflagged').
    kappa_g and G carry errors by bootstrap over samples; kappa <= 0 or non-finite is left out."""
    p = ens.params
    keep = ens.done()
    n_excl = 0
    if exclude is not None:
        n_excl = int((keep & exclude).sum())
        keep = keep & ~exclude
    kappa = [k[np.isfinite(k) & (k > 0)] for k, ok in zip(ens.ragged("kappa"), keep) if ok]
    kg, kerr = bootstrap_pooled_mean(kappa)
    G = bootstrap_sample_mean(ens.array("G")[keep]) if ens.has("G") else (math.nan, math.nan)
    e = mean_sem(ens.array("energy")[keep])
    shift = math.nan
    if ens.has("eq_energy_halves"):
        halves = ens.array("eq_energy_halves")[keep]
        diff, err = mean_sem(halves[:, 1] - halves[:, 0])
        shift = diff / err if err and np.isfinite(err) and err > 0 else math.nan
    return GlassSummary(group, ens.name, p.get("model", "?"), int(ens.dim() or 0), int(p.get("N", 0)),
                        float(p.get("T_p", math.nan)), p.get("protocol", "?"), p.get("pairs", "?"), int(keep.sum()), int(sum(k.size for k in kappa)), kg, kerr, *G, *e, shift,
                        "all" if exclude is None else "unflagged", n_excl)


def energy_series(ens: Ensemble) -> tuple[np.ndarray, np.ndarray]:
    """U/N over the consecutive blocks of the sampling at T_p (``eq_energy_series``): mean over
    the finished samples and its standard error per block, two float64 arrays (blocks,); empty
    for runs written before the series was stored."""
    if not ens.has("eq_energy_series"):
        return np.empty(0), np.empty(0)
    series = ens.array("eq_energy_series", done_only=True)
    return np.array([mean_sem(col) for col in series.T]).T


def scatter(ens: Ensemble) -> tuple[np.ndarray, np.ndarray]:
    """(f, kappa) of every selected pair of the finished samples (Fig. 2)."""
    return ens.values("f"), ens.values("kappa")


def kappa_by_force(f: np.ndarray, kappa: np.ndarray, threshold: float = 1e-3, decades: int = 3) -> dict:
    """The Fig. 2 test on a kappa-f scatter: median kappa in log bins of f.

    Returns {'edges': f bin edges, 'median': median kappa per bin (NaN if empty), 'counts',
    'below': median kappa of pairs with f < threshold, 'above_max': the largest bin median above
    threshold}.  The paper's claim is that medians are flat below the threshold and grow above.
    """
    f = np.asarray(f)
    kappa = np.asarray(kappa)
    pos = f > 0
    lo = max(f[pos].min() if pos.any() else threshold, threshold * 10.0**-decades)
    edges = np.logspace(np.log10(lo), np.log10(max(f.max(), threshold * 10)), 13)
    idx = np.digitize(f, edges) - 1
    med = np.array([np.median(kappa[idx == b]) if np.any(idx == b) else np.nan for b in range(len(edges) - 1)])
    counts = np.array([np.count_nonzero(idx == b) for b in range(len(edges) - 1)])
    above = med[edges[:-1] >= threshold]
    return {"edges": edges, "median": med, "counts": counts,
            "below": float(np.median(kappa[(f < threshold) & pos])) if np.any((f < threshold) & pos) else math.nan,
            "above_max": float(np.nanmax(above)) if np.any(np.isfinite(above)) else math.nan}


def relative_to_highest_T(summaries: list[GlassSummary], value: str) -> dict:
    """Fig. 6 curve: ``value`` ('kappa_g' or 'G') over T_p, divided by its value at the highest T_p
    (our estimate of the T_p -> infinity plateau), errors propagated in quadrature.

    Returns {'T_p', 'ratio', 'err', 'reference_T_p'} with T_p descending.
    """
    s = sorted(summaries, key=lambda x: -x.T_p)
    v = np.array([getattr(x, value) for x in s])
    e = np.array([getattr(x, value + "_err") for x in s])
    ratio = v / v[0]
    err = np.abs(ratio) * np.sqrt((e / v) ** 2 + (e[0] / v[0]) ** 2)
    err[0] = 0.0
    return {"T_p": np.array([x.T_p for x in s]), "ratio": ratio, "err": err, "reference_T_p": s[0].T_p}


def growth_factor(summaries: list[GlassSummary], value: str) -> tuple[float, float]:
    """(ratio, error) of ``value`` at the lowest T_p to that at the highest T_p."""
    c = relative_to_highest_T(summaries, value)
    return float(c["ratio"][-1]), float(c["err"][-1])


def mode_statistics(ens: Ensemble, bins: int = 20) -> dict:
    """Lowest-mode statistics: omega = sqrt(lambda) of every stored mode, its density D(omega)
    per sample (counts / (samples * bin width)) on linear bins, and participation ratios.
    Eigenvalues <= 0 (unstable samples) are dropped and counted in 'negative'."""
    lam = ens.array("eigenvalues", done_only=True)
    part = ens.array("participation", done_only=True)
    ok = lam > 0
    omega = np.sqrt(lam[ok])
    counts, edges = np.histogram(omega, bins=bins)
    n = lam.shape[0]
    return {"omega": omega, "participation": part[ok], "edges": edges, "counts": counts,
            "D": counts / (max(n, 1) * np.diff(edges)), "samples": n, "negative": int((~ok).sum())}


def finite_size(rows: list[tuple[GlassSummary, EtaFit | None]]) -> dict:
    """Fig. 8 table: per N (ascending) kappa_g with error and the MLE eta with error (NaN if none)."""
    rows = sorted(rows, key=lambda r: r[0].N)
    return {"N": np.array([r[0].N for r in rows]),
            "kappa_g": np.array([r[0].kappa_g for r in rows]),
            "kappa_g_err": np.array([r[0].kappa_g_err for r in rows]),
            "eta": np.array([r[1].eta if r[1] else math.nan for r in rows]),
            "eta_err": np.array([r[1].err if r[1] else math.nan for r in rows])}
