"""The small-kappa exponent eta of p(kappa) = A kappa^eta."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .distributions import LogPdf, pdf_from_counts


@dataclass(frozen=True)
class EtaFit:
    """One estimate of eta with its standard error, the prefactor A and the window it used."""

    method: str
    eta: float
    err: float
    A: float
    kmin: float
    kmax: float
    n: int  # values (MLE) or bins (least squares) used


def fit_eta_mle(values: np.ndarray, kmax: float) -> EtaFit:
    """Maximum likelihood on the lower tail.

    The n values below kmax are taken as drawn from p(k) = (eta+1) k^eta / kmax^(eta+1) on
    (0, kmax]; then eta_hat = -n / sum(log(k_i/kmax)) - 1, with standard error
    (eta_hat + 1)/sqrt(n).  A is the prefactor of the full density, F(kmax) (eta+1)/kmax^(eta+1),
    with F(kmax) the fraction of all values below kmax.
    """
    values = np.asarray(values, dtype=np.float64)
    tail = values[(values > 0) & (values < kmax)]
    n = tail.size
    if n < 2:
        raise ValueError(f"fewer than 2 values below kmax = {kmax}")
    eta = -n / np.log(tail / kmax).sum() - 1.0
    frac = n / values.size
    return EtaFit("mle", eta, (eta + 1.0) / np.sqrt(n), frac * (eta + 1.0) / kmax ** (eta + 1.0),
                  float(tail.min()), kmax, n)


def fit_eta_lsq(pdf: LogPdf, kmin: float, kmax: float, min_counts: int = 1) -> EtaFit:
    """Weighted least squares of log p against log kappa over bins entirely inside [kmin, kmax].

    Weights are the Poisson counts (var(log p) = 1/count); bins with fewer than ``min_counts``
    counts are dropped.
    """
    sel = (pdf.edges[:-1] >= kmin * (1 - 1e-12)) & (pdf.edges[1:] <= kmax * (1 + 1e-12)) & (pdf.counts >= max(1, min_counts))
    if sel.sum() < 3:
        raise ValueError(f"fewer than 3 populated bins in [{kmin:g}, {kmax:g}]")
    x, y, w = np.log(pdf.centres[sel]), np.log(pdf.pdf[sel]), pdf.counts[sel].astype(float)
    X = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ (X.T @ (w * y))
    resid = y - X @ beta
    dof = max(1, x.size - 2)
    scale = max(1.0, float((w * resid**2).sum() / dof))  # inflate by the misfit beyond Poisson noise
    return EtaFit("lsq", float(beta[1]), float(np.sqrt(cov[1, 1] * scale)), float(np.exp(beta[0])),
                  kmin, kmax, int(sel.sum()))


def default_window(values: np.ndarray, frac: float = 0.01, per_decade: int = 10,
                   min_counts: int = 20) -> tuple[float, float]:
    """(kmin, kmax): kmax is the ``frac`` quantile of the values; kmin the lowest log-bin edge
    (``per_decade`` bins per decade, aligned to kmax) above which every bin up to kmax holds at
    least ``min_counts`` values."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    kmax = float(values[max(1, int(frac * values.size)) - 1])
    step = 10 ** (1.0 / per_decade)
    kmin = kmax
    while True:
        lo = kmin / step
        if np.searchsorted(values, kmin) - np.searchsorted(values, lo) < min_counts:
            return kmin, kmax
        kmin = lo


def fit_eta(values: np.ndarray, frac: float = 0.01, per_decade: int = 10) -> tuple[EtaFit, EtaFit]:
    """Both estimators on the default window: (least squares, maximum likelihood)."""
    values = np.asarray(values, dtype=np.float64)
    kmin, kmax = default_window(values, frac, per_decade)
    # Bins aligned on kmax so that the window is made of whole bins.
    nb = int(np.ceil(np.log10(kmax / values.min()) * per_decade)) + 1
    edges = kmax * 10.0 ** (np.arange(-nb, 1) / per_decade)
    counts, _ = np.histogram(values, bins=edges)
    lsq = fit_eta_lsq(pdf_from_counts(counts, edges, total=values.size), kmin, kmax)
    return lsq, fit_eta_mle(values, kmax)
