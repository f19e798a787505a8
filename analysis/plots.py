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


def pkappa_family(curves, stem: str, title: str, slopes=()) -> list[str]:
    """p(kappa) of several ensembles on log-log axes (Figs. 3a, 4, 5, 8).

    ``curves``: list of (label, LogPdf, EtaFit or None); a fit is drawn as a solid line over its
    window and quoted in the legend.  ``slopes``: exponents drawn as dotted guide lines (e.g. the
    lattice-model values), anchored at the lowest curve's small-kappa end.
    """
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    anchor = None
    for label, pdf, fit in curves:
        ok = pdf.counts > 0
        text = label if fit is None else f"{label}: $\\eta$ = {fit.eta:.2f}$\\pm${fit.err:.2f}"
        line, = ax.loglog(pdf.centres[ok], pdf.pdf[ok], "o-", ms=3, lw=0.8, label=text)
        if fit is not None:
            k = np.logspace(np.log10(fit.kmin), np.log10(fit.kmax), 20)
            ax.loglog(k, fit.A * k**fit.eta, "-", color=line.get_color(), lw=2, alpha=0.6)
        if ok.any():
            first = (pdf.centres[ok][0], pdf.pdf[ok][0])
            anchor = first if anchor is None or first[0] < anchor[0] else anchor
    if anchor is not None:
        for s in slopes:
            k = anchor[0] * np.logspace(0, 2, 10)
            ax.loglog(k, anchor[1] * (k / anchor[0]) ** s, "k:", lw=1)
            ax.text(k[-1], anchor[1] * 100**s, f"{s:.2f}", fontsize=7)
    ax.set_xlabel(r"$\kappa$")
    ax.set_ylabel(r"$p(\kappa)$")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6.5, loc="best")
    return save(fig, stem)


def fig2_scatter(panels, threshold: float, stem: str) -> list[str]:
    """Fig. 2: kappa against the pair force f, one panel per ensemble, the threshold dashed, and
    the median kappa in log bins of f.  ``panels``: list of (label, f, kappa, binned) with
    ``binned`` from :func:`analysis.glass.kappa_by_force`."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (label, f, kappa, binned) in zip(axes[0], panels):
        pos = f > 0
        ax.loglog(f[pos], kappa[pos], ".", ms=1.5, alpha=0.4, color="tab:blue", rasterized=True)
        e = binned["edges"]
        ax.loglog(np.sqrt(e[1:] * e[:-1]), binned["median"], "ks-", ms=3, lw=1, label="median")
        ax.axvline(threshold, ls="--", color="k", lw=1)
        ax.set_xlabel("$f$")
        ax.set_ylabel(r"$\kappa$")
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=7)
    return save(fig, stem)


def fig6_growth(curves, stem: str) -> list[str]:
    """Fig. 6: kappa_g/kappa_inf (left) and G/G_inf (right) against T_p, one curve per (model, d).
    ``curves``: list of (label, kappa curve, G curve or None) with curves from
    :func:`analysis.glass.relative_to_highest_T`."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.5, 3.6))
    for label, kc, gc in curves:
        a.errorbar(kc["T_p"], kc["ratio"], kc["err"], fmt="o-", ms=4, capsize=2, label=label)
        if gc is not None:
            b.errorbar(gc["T_p"], gc["ratio"], gc["err"], fmt="s-", ms=4, capsize=2, label=label)
    a.set_ylabel(r"$\kappa_g/\kappa_\infty$")
    b.set_ylabel(r"$G/G_\infty$")
    for ax in (a, b):
        ax.set_xlabel("$T_p$")
        ax.legend(fontsize=7)
    fig.suptitle("normalised by the highest $T_p$ of each curve", fontsize=8)
    return save(fig, stem)


def fig8_finite_size(table: dict, stem: str, eta_ref: float | None = None) -> list[str]:
    """Fig. 8 companion: eta (MLE) and kappa_g against N, from :func:`analysis.glass.finite_size`."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.0, 3.4))
    a.errorbar(table["N"], table["eta"], table["eta_err"], fmt="o-", capsize=2)
    if eta_ref is not None:
        a.axhline(eta_ref, ls=":", color="k", label=f"lattice model / paper {eta_ref:.2f}")
        a.legend(fontsize=7)
    b.errorbar(table["N"], table["kappa_g"], table["kappa_g_err"], fmt="s-", capsize=2)
    for ax, lab in ((a, r"$\eta$ (MLE)"), (b, r"$\kappa_g$")):
        ax.set_xscale("log")
        ax.set_xlabel("$N$")
        ax.set_ylabel(lab)
    return save(fig, stem)


def modes_figure(stats, stem: str) -> list[str]:
    """Lowest Hessian modes: D(omega) per sample (left) and participation ratio against omega
    (right).  ``stats``: list of (label, dict from :func:`analysis.glass.mode_statistics`)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.5, 3.6))
    for label, s in stats:
        e = s["edges"]
        a.loglog(0.5 * (e[1:] + e[:-1]), np.where(s["counts"] > 0, s["D"], np.nan), "o-", ms=3, label=label)
        b.semilogy(s["omega"], s["participation"], ".", ms=3, label=label)
    a.set_xlabel(r"$\omega$")
    a.set_ylabel(r"$D(\omega)$ (lowest modes, per sample)")
    b.set_xlabel(r"$\omega$")
    b.set_ylabel("participation ratio")
    a.legend(fontsize=7)
    return save(fig, stem)


def fig1_fields(x: np.ndarray, L: float, mode, response, pair, stem: str) -> list[str]:
    """Fig. 1: (a) a low-frequency mode and (b) a dipole response of one 2D glass, as arrows at
    the particles, each normalised by its largest displacement.

    x: (N, 2) positions in [0, L); mode, response: (N, 2) fields or None; pair: (i, j) of the
    dipole (drawn as two thick arrows pushing the pair apart) or None.
    """
    panels = [(t, f) for t, f in (("(a) lowest mode", mode), ("(b) dipole response", response)) if f is not None]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.6), squeeze=False)
    for ax, (title, u) in zip(axes[0], panels):
        u = u / np.abs(u).max()
        ax.quiver(x[:, 0], x[:, 1], u[:, 0], u[:, 1], np.hypot(u[:, 0], u[:, 1]), angles="xy",
                  scale_units="xy", scale=0.5, width=0.003, cmap="viridis")
        if title.startswith("(b)") and pair is not None:
            i, j = pair
            rij = x[i] - x[j]
            rij -= L * np.round(rij / L)
            n = rij / np.linalg.norm(rij)
            for k, sgn in ((i, 1.0), (j, -1.0)):
                ax.annotate("", xy=x[k] + 2.0 * sgn * n, xytext=x[k],
                            arrowprops=dict(arrowstyle="-|>", lw=2.5, color="k"))
        ax.set_xlim(0, L)
        ax.set_ylim(0, L)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return save(fig, stem)
