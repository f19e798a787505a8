"""The small-kappa exponent eta of p(kappa) = A kappa^eta."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .distributions import LogPdf, pdf_from_counts


@dataclass(frozen=True)
class EtaFit:
    """One estimate of eta with its standard error, the prefactor A and the window it used.

    method: 'lsq' or 'mle'; A in 1/[kappa]^(eta+1), so that p(kappa) = A kappa^eta;
    [kmin, kmax]: the window (for 'mle' kmin is the smallest value used, the model is on (0, kmax]);
    n: bins used ('lsq') or values used ('mle'); window: how the window was chosen.
    """

    method: str
    eta: float
    err: float
    A: float
    kmin: float
    kmax: float
    n: int
    window: str = "given"


def fit_eta_mle(values: np.ndarray, kmax: float, window: str = "given") -> EtaFit:
    """Maximum likelihood on the lower tail of ``values`` (n,), kappa > 0.

    The n values below kmax are taken as drawn from p(k) = (eta+1) k^eta / kmax^(eta+1) on
    (0, kmax]; then eta_hat = -n / sum(log(k_i/kmax)) - 1, with standard error
    (eta_hat + 1)/sqrt(n).  A is the prefactor of the full density, F(kmax) (eta+1)/kmax^(eta+1),
    with F(kmax) the fraction of all values below kmax.
    """
    values = np.asarray(values, dtype=np.float64)
    tail = values[(values > 0) & (values < kmax)]
    n = tail.size
    if n < 2:
        raise ValueError(f"fewer than 2 values below kmax = {kmax:g}")
    eta = -n / np.log(tail / kmax).sum() - 1.0
    frac = n / values.size
    return EtaFit("mle", float(eta), float((eta + 1.0) / np.sqrt(n)),
                  float(frac * (eta + 1.0) / kmax ** (eta + 1.0)), float(tail.min()), float(kmax), n, window)


def fit_eta_lsq(pdf: LogPdf, kmin: float, kmax: float, min_counts: int = 1, window: str = "given") -> EtaFit:
    """Weighted least squares of log p against log kappa over the bins of ``pdf`` entirely inside
    [kmin, kmax].

    Weights are the Poisson counts (var(log p) = 1/count); bins with fewer than ``min_counts``
    (at least 1) counts are dropped. The standard error is inflated by sqrt(chi2/dof) when the
    misfit exceeds Poisson noise. Needs at least 3 bins.
    """
    tol = 1e-12
    sel = ((pdf.edges[:-1] >= kmin * (1 - tol)) & (pdf.edges[1:] <= kmax * (1 + tol))
           & (pdf.counts >= max(1, min_counts)))
    if sel.sum() < 3:
        raise ValueError(f"fewer than 3 populated bins in [{kmin:g}, {kmax:g}]")
    x, y, w = np.log(pdf.centres[sel]), np.log(pdf.pdf[sel]), pdf.counts[sel].astype(float)
    X = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ (X.T @ (w * y))
    resid = y - X @ beta
    dof = max(1, x.size - 2)
    scale = max(1.0, float((w * resid**2).sum() / dof))
    return EtaFit("lsq", float(beta[1]), float(np.sqrt(cov[1, 1] * scale)), float(np.exp(beta[0])),
                  float(kmin), float(kmax), int(sel.sum()), window)


def default_window(values: np.ndarray, frac: float = 0.01, per_decade: int = 10,
                   min_counts: int = 10) -> tuple[float, float]:
    """(kmin, kmax) for ``values`` (n,): kmax is the ``frac`` quantile of the values (the
    ceil(frac n)-th smallest), kmin the least-squares lower edge of :func:`lsq_bins`."""
    pool = Pool([np.asarray(values, dtype=np.float64)], per_decade)
    kmax = pool.quantile(frac)
    return lsq_bins(pool, 0.0, kmax, per_decade, min_counts)[2], kmax


def lsq_bins(pool: "Pool", kmin: float, kmax: float, per_decade: int = 10, min_counts: int = 10,
             w=None) -> tuple[np.ndarray, np.ndarray, float]:
    """(edges, counts, lo) of the least-squares fit: log bins aligned on kmax (``per_decade`` per
    decade) down to the smallest value, their weighted counts, and the window's lower edge: KMIN
    rounded down to an edge where KMIN > 0, else the lowest edge such that every bin from it up
    to kmax holds at least ``min_counts`` values (kmax itself when the first bin is too sparse)."""
    nb = int(np.ceil(np.log10(kmax / pool.all[0]) * per_decade)) + 1
    edges = kmax * 10.0 ** (np.arange(-nb, 1) / per_decade)
    counts = np.diff(pool.count(edges, w))
    if kmin > 0:
        lo = kmax * 10.0 ** (np.floor(np.log10(kmin / kmax) * per_decade + 1e-9) / per_decade)
    else:
        short = np.flatnonzero(counts[::-1] < min_counts)
        lo = edges[-1 - (short[0] if short.size else counts.size)]
    return edges, counts, float(lo)


class Pool:
    """The positive values of several samples, each sorted once, so that a bootstrap resample is
    a weight per sample (how often it was drawn) instead of a copy of the data.

    ``count(k, w)``, ``logsum(k, w)``: the number and the sum of log of the pooled values below
    each of the edges ``k``, every sample counted ``w`` times (w defaults to ones).
    """

    def __init__(self, groups, per_decade: int = 10):
        self.groups = [np.sort(g[(g > 0) & np.isfinite(g)]) for g in map(np.asarray, groups)]
        self.cumlog = [np.concatenate([[0.0], np.cumsum(np.log(g))]) for g in self.groups]
        self.sizes = np.array([g.size for g in self.groups], dtype=np.float64)
        self.all = np.sort(np.concatenate(self.groups)) if self.groups else np.empty(0)
        if self.all.size == 0:
            raise ValueError("no positive values")
        # a data-independent log grid (edges at 10^(j / per_decade)) for the peak of p(kappa)
        j = np.arange(np.floor(np.log10(self.all[0]) * per_decade), np.floor(np.log10(self.all[-1]) * per_decade) + 2)
        self.edges = 10.0 ** (j / per_decade)
        self.hist = np.array([np.diff(np.searchsorted(g, self.edges)) for g in self.groups], dtype=np.float64)

    def weights(self, w=None) -> np.ndarray:
        return np.ones(len(self.groups)) if w is None else np.asarray(w, dtype=np.float64)

    def total(self, w=None) -> float:
        return float(self.weights(w) @ self.sizes)

    def count(self, k, w=None) -> np.ndarray:
        k = np.atleast_1d(np.asarray(k, dtype=np.float64))
        return self.weights(w) @ np.array([np.searchsorted(g, k) for g in self.groups], dtype=np.float64)

    def logsum(self, k, w=None) -> np.ndarray:
        k = np.atleast_1d(np.asarray(k, dtype=np.float64))
        return self.weights(w) @ np.array([c[np.searchsorted(g, k)] for g, c in zip(self.groups, self.cumlog)])

    def quantile(self, frac: float, w=None) -> float:
        """The ceil(frac n)-th smallest pooled value (n the weighted total)."""
        m = max(1, int(np.ceil(frac * self.total(w))))
        lo, hi = 0, self.all.size - 1  # smallest index i with count(<= all[i]) >= m
        while lo < hi:
            mid = (lo + hi) // 2
            if self.count(np.nextafter(self.all[mid], np.inf), w)[0] >= m:
                hi = mid
            else:
                lo = mid + 1
        return float(self.all[lo])

    def peak(self, w=None) -> float:
        """kappa at the maximum of p(kappa) on the log grid, the density smoothed over three
        neighbouring bins so that one noisy bin does not move the peak."""
        dens = (self.weights(w) @ self.hist) / np.diff(self.edges)
        smooth = np.convolve(dens, np.ones(3) / 3.0, mode="same")
        return float(np.sqrt(self.edges[:-1] * self.edges[1:])[int(np.argmax(smooth))])


def peak_location(values: np.ndarray, per_decade: int = 10) -> float:
    """kappa at the maximum of the log-binned p(kappa) of ``values`` (see :meth:`Pool.peak`)."""
    return Pool([np.asarray(values, dtype=np.float64)], per_decade).peak()


# The fewest values a fit window must hold.
MIN_WINDOW_VALUES = 20


@dataclass(frozen=True)
class Window:
    """How the fit window is chosen.

    rule 'quantile': kmax = the ``a`` quantile of the values;  'peak': kmax = ``a`` times the
    peak location of the log-binned p(kappa) (:func:`peak_location`);  'kappa': the fixed window
    [a, b] (a may be 0).  Text forms (``--window``): ``quantile:F``, ``peak:FRAC``, ``kappa:KMIN,KMAX``.
    """

    rule: str
    a: float
    b: float = math.nan

    @classmethod
    def parse(cls, text: str) -> "Window":
        """A Window from its text form; ValueError with the expected forms otherwise."""
        rule, _, arg = str(text).partition(":")
        try:
            nums = [float(v) for v in arg.split(",")]
        except ValueError:
            nums = []
        ok = {"quantile": len(nums) == 1 and 0 < nums[0] <= 1,
              "peak": len(nums) == 1 and 0 < nums[0] <= 1,
              "kappa": len(nums) == 2 and 0 <= nums[0] < nums[1] and all(map(math.isfinite, nums))}
        if not ok.get(rule, False):
            raise ValueError(f"window {text!r}: expected quantile:F or peak:FRAC with F, FRAC in (0, 1], "
                             "or kappa:KMIN,KMAX with 0 <= KMIN < KMAX")
        return cls(rule, *nums)

    def text(self) -> str:
        """The text form, as parsed."""
        return f"kappa:{self.a:g},{self.b:g}" if self.rule == "kappa" else f"{self.rule}:{self.a:g}"

    def bounds(self, pool: "Pool", w=None) -> tuple[float, float]:
        """(kmin, kmax) of the maximum-likelihood model for the pooled values (weights ``w``);
        kmin is 0 except for a 'kappa' window with KMIN > 0."""
        if not isinstance(pool, Pool):
            pool = Pool([np.asarray(pool, dtype=np.float64)])
        if self.rule == "kappa":
            return self.a, self.b
        if self.rule == "peak":
            return 0.0, self.a * pool.peak(w)
        return 0.0, pool.quantile(self.a, w)


def _truncated_mle(n: float, mean_log: float, r: float) -> tuple[float, float]:
    """(eta, standard error) of p(k) ~ k^eta on [kmin, kmax] from n values with mean log(k/kmax)
    ``mean_log``, r = log(kmin/kmax) < 0: the root of the score, error from the Fisher information."""
    from scipy.optimize import brentq

    def score(eta):  # d(log-likelihood)/d(eta) per value
        a = eta + 1.0
        if abs(a) < 1e-8:
            return mean_log - r / 2
        return 1.0 / a + mean_log - r * np.exp(a * r) / np.expm1(a * r)

    eta = brentq(score, -50.0, 50.0)
    a = eta + 1.0
    info = 1.0 / a**2 - r**2 * np.exp(a * r) / np.expm1(a * r) ** 2
    return float(eta), float(1.0 / np.sqrt(n * info))


def fit_pool(pool: Pool, window: Window, per_decade: int = 10, min_counts: int = 10,
             w=None, lsq: bool = True) -> tuple[EtaFit | None, EtaFit]:
    """Both estimators on one window of the pooled values of ``pool`` with sample weights ``w``:
    (least squares or None, maximum likelihood).

    MLE: p(k) ~ k^eta on (0, kmax] (closed form) or, for a 'kappa' window with KMIN > 0, on
    [kmin, kmax] (the truncated power law's likelihood maximised numerically, error from its
    Fisher information); A = F (eta+1) / (kmax^(eta+1) - kmin^(eta+1)), F the fraction of all
    values in the window.  LSQ (skipped with ``lsq=False``): :func:`fit_eta_lsq` on log bins
    aligned on kmax, from KMIN rounded down to a bin edge, or else from the lowest edge with at
    least ``min_counts`` values in every bin up to kmax; None where fewer than 3 bins qualify.
    Raises ValueError naming the window when it holds fewer than MIN_WINDOW_VALUES values or its
    kmax lies above the peak of p(kappa).
    """
    rule = window.text()
    kmin, kmax = window.bounds(pool, w)
    peak = pool.peak(w)
    n_lo, n_hi = pool.count([kmin, kmax], w)
    n = n_hi - n_lo
    if n < MIN_WINDOW_VALUES:
        raise ValueError(f"window {rule} = [{kmin:g}, {kmax:g}] holds {n:.0f} values "
                         f"(at least {MIN_WINDOW_VALUES} needed)")
    if kmax > peak:
        raise ValueError(f"window {rule}: kmax = {kmax:g} lies above the peak of p(kappa) at {peak:g}")
    s_lo, s_hi = pool.logsum([kmin, kmax], w)
    mean_log = (s_hi - s_lo) / n - np.log(kmax)
    if kmin > 0:
        eta, err = _truncated_mle(n, mean_log, np.log(kmin / kmax))
    else:
        eta = -1.0 / mean_log - 1.0
        err = (eta + 1.0) / np.sqrt(n)
    total = pool.total(w)
    A = n / total * (eta + 1.0) / (kmax ** (eta + 1.0) - (kmin ** (eta + 1.0) if kmin > 0 else 0.0))
    first = pool.all[np.searchsorted(pool.all, kmin)]
    mle = EtaFit("mle", float(eta), float(err), float(A), float(first), float(kmax), int(round(n)), rule)
    if not lsq:
        return None, mle
    edges, counts, lo = lsq_bins(pool, kmin, kmax, per_decade, min_counts, w)
    try:
        fit = fit_eta_lsq(pdf_from_counts(counts, edges, total=int(round(total))), lo, kmax, window=rule)
    except ValueError:
        fit = None
    return fit, mle


def fit_eta(values: np.ndarray, window: "Window | None" = None, per_decade: int = 10,
            min_counts: int = 10, frac: float | None = None) -> tuple[EtaFit | None, EtaFit]:
    """:func:`fit_pool` on one array of values; ``window`` defaults to ``quantile:frac`` (frac
    default 0.01)."""
    window = window or Window("quantile", 0.01 if frac is None else frac)
    return fit_pool(Pool([np.asarray(values, dtype=np.float64)], per_decade), window, per_decade, min_counts)


def prefactor_at(values: np.ndarray, eta: float, kmax: float) -> float:
    """A of p(kappa) = A kappa^eta with eta held fixed, from the fraction F of ``values`` below
    kmax: F = A kmax^(eta+1)/(eta+1).  Compares the weight of the small-kappa tail of
    ensembles whose fitted exponents scatter (Fig. 5: A_kappa against T_p)."""
    values = np.asarray(values, dtype=np.float64)
    frac = np.count_nonzero((values > 0) & (values < kmax)) / max(values.size, 1)
    return float(frac * (eta + 1.0) / kmax ** (eta + 1.0))
