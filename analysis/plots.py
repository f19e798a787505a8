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
    """Write ``stem``.png and ``stem``.pdf; returns the paths."""
    os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
    paths = [f"{stem}.png", f"{stem}.pdf"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths


def fig3b_lattice(curves: dict[int, tuple[LogPdf, EtaFit, EtaFit]], stem: str) -> list[str]:
    """Fig. 3b: p(kappa) of the lattice model per dimension d, with the fitted power laws.

    ``curves`` maps d to (pdf, least-squares fit, maximum-likelihood fit).
    """
    fig, ax = plt.subplots(figsize=(5.0, 4.0))
    for d, (pdf, lsq, mle) in sorted(curves.items()):
        c = _COLOURS.get(d, None)
        ok = pdf.counts > 0
        paper = PAPER_LATTICE_ETA.get(d)
        label = f"d={d}: $\\eta$={mle.eta:.2f}$\\pm${mle.err:.2f} (MLE), {lsq.eta:.2f} (LSQ)"
        if paper is not None:
            label += f"; paper {paper:.2f}"
        ax.loglog(pdf.centres[ok], pdf.pdf[ok], "o", ms=3, color=c, label=label)
        k = np.logspace(np.log10(lsq.kmin), np.log10(lsq.kmax), 20)
        ax.loglog(k, lsq.A * k**lsq.eta, "-", color="k", lw=1)
    ax.set_xlabel(r"$\kappa$")
    ax.set_ylabel(r"$p(\kappa)$")
    ax.set_title("Lattice model (Fig. 3b)")
    ax.legend(fontsize=7, loc="lower right")
    return save(fig, stem)
