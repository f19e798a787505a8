"""Figures of the paper (matplotlib, Agg backend: runs headless)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .distributions import LogPdf  # noqa: E402
from .fits import EtaFit  # noqa: E402

# Exponents reported in the paper (Sec. III C, Fig. 3b) for the lattice model.
PAPER_LATTICE_ETA = {2: 0.90, 3: 0.80, 4: 0.76}
_COLOURS = {2: "tab:brown", 3: "goldenrod", 4: "tab:green"}


def save(fig, stem: str) -> list[str]:
    """Write ``stem``.png (150 dpi) and ``stem``.pdf and close the figure; returns the two paths."""
    os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
    paths = [f"{stem}.png", f"{stem}.pdf"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths


def fig3b_lattice(curves, stem: str) -> list[str]:
    """Fig. 3b: p(kappa) of the lattice model per dimension d on log-log axes, with the fitted
    power laws drawn over their windows (solid: least squares, dashed: maximum likelihood).

    ``curves``: dict d -> (pdf, lsq, mle), or a list of (d, label, pdf, lsq, mle) where lsq and/or
    mle may be None. Legend: our eta (LSQ and MLE, with errors) beside the paper's value.
    Writes ``stem``.png and ``stem``.pdf; returns the paths.
    """
    if isinstance(curves, dict):
        curves = [(d, f"d={d}", *v) for d, v in sorted(curves.items())]
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for d, label, pdf, lsq, mle in curves:
        c = _COLOURS.get(d)
        ok = pdf.counts > 0
        parts = []
        if lsq is not None:
            parts.append(f"LSQ {lsq.eta:.3f}$\\pm${lsq.err:.3f}")
        if mle is not None:
            parts.append(f"MLE {mle.eta:.3f}$\\pm${mle.err:.3f}")
        paper = PAPER_LATTICE_ETA.get(d)
        if paper is not None:
            parts.append(f"paper {paper:.2f}")
        line, = ax.loglog(pdf.centres[ok], pdf.pdf[ok], "o", ms=3, color=c,
                          label=f"{label}: $\\eta$ " + ", ".join(parts))
        c = line.get_color()
        for fit, ls in ((lsq, "-"), (mle, "--")):
            if fit is None:
                continue
            k = np.logspace(np.log10(fit.kmin), np.log10(fit.kmax), 20)
            ax.loglog(k, fit.A * k**fit.eta, ls, color="k", lw=1.2 if ls == "-" else 0.9)
    ax.set_xlabel(r"$\kappa$")
    ax.set_ylabel(r"$p(\kappa)$")
    ax.set_title("Lattice model (Fig. 3b); lines: fits (solid LSQ, dashed MLE)", fontsize=9)
    ax.legend(fontsize=6.5, loc="upper left")
    return save(fig, stem)
