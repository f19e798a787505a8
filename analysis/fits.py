"""The small-kappa exponent eta of p(kappa) = A kappa^eta."""

from __future__ import annotations

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
    """(kmin, kmax) for ``values`` (n,).

    kmax is the ``frac`` quantile of the values (the ceil(frac n)-th smallest); kmin is the lowest
    edge of the log bins (``per_decade`` per decade, aligned so that kmax is an edge) such that
    every bin between kmin and kmax holds at least ``min_counts`` values. kmin == kmax when even
    the first bin below kmax is too sparse.
    """
    values = np.sort(np.asarray(values, dtype=np.float64))
    values = values[values > 0]
    if values.size == 0:
        raise ValueError("no positive values")
    kmax = float(values[min(values.size, max(1, int(np.ceil(frac * values.size)))) - 1])
    step = 10 ** (1.0 / per_decade)
    kmin = kmax
    while True:
        lo = kmin / step
        if np.searchsorted(values, kmin) - np.searchsorted(values, lo) < min_counts:
            return kmin, kmax
        kmin = lo


def window_rule(frac: float, per_decade: int, min_counts: int) -> str:
    """The text stating the default window rule (stored in EtaFit.window)."""
    return (f"kmax = {frac:g} quantile; kmin = lowest edge ({per_decade}/decade, aligned on kmax) "
            f"with >= {min_counts} counts in every bin up to kmax")


def fit_eta(values: np.ndarray, frac: float = 0.01, per_decade: int = 10,
            min_counts: int = 10) -> tuple[EtaFit, EtaFit]:
    """Both estimators on the default window (see default_window): (least squares, maximum likelihood).

    The least-squares fit uses log bins aligned on kmax, so the window is made of whole bins; the
    maximum-likelihood fit uses all values below kmax. Raises ValueError if either cannot be done.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[values > 0]
    kmin, kmax = default_window(values, frac, per_decade, min_counts)
    rule = window_rule(frac, per_decade, min_counts)
    nb = int(np.ceil(np.log10(kmax / values.min()) * per_decade)) + 1
    edges = kmax * 10.0 ** (np.arange(-nb, 1) / per_decade)
    counts, _ = np.histogram(values, bins=edges)
    lsq = fit_eta_lsq(pdf_from_counts(counts, edges, total=values.size), kmin, kmax, window=rule)
    return lsq, fit_eta_mle(values, kmax, window=rule)


def prefactor_at(values: np.ndarray, eta: float, kmax: float) -> float:
    """A of p(kappa) = A kappa^eta with eta held fixed, from the fraction F of ``values`` below
    kmax: F = A kmax^(eta+1)/(eta+1).  Compares the weight of the small-kappa tail of
    ensembles whose fitted exponents scatter (Fig. 5: A_kappa against T_p)."""
    values = np.asarray(values, dtype=np.float64)
    frac = np.count_nonzero((values > 0) & (values < kmax)) / max(values.size, 1)
    return float(frac * (eta + 1.0) / kmax ** (eta + 1.0))
