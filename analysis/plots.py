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


def _err(e):
    """Error bars for errorbar(): None where none is finite (matplotlib 3.6 fails on all-NaN)."""
    e = np.asarray(e, dtype=np.float64)
    return e if np.isfinite(e).any() else None


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
            parts.append(f"paper's {paper:.2f}")
        line, = ax.loglog(pdf.centres[ok], pdf.pdf[ok], "o", ms=3, color=c, alpha=0.6,
                          label=f"{label}: $\\eta$ (this code) " + ", ".join(parts))
        c = line.get_color()
        for fit, ls in ((lsq, "-"), (mle, "--")):
            if fit is None:
                continue
            k = np.logspace(np.log10(fit.kmin), np.log10(fit.kmax), 20)
            ax.loglog(k, fit.A * k**fit.eta, ls, color=c, lw=1.6 if ls == "-" else 1.1)
    ax.set_xlabel(r"$\kappa$")
    ax.set_ylabel(r"$p(\kappa)$")
    ax.set_title("Lattice model (Fig. 3b); lines: fits (solid LSQ, dashed MLE)", fontsize=9)
    ax.legend(fontsize=6.5, loc="upper left")
    return save(fig, stem)


def pkappa_family(curves, stem: str, title: str, slopes=()) -> list[str]:
    """p(kappa) of several ensembles on log-log axes (Figs. 3a, 4, 5, 8).

    ``curves``: list of (label, LogPdf, EtaFit or None); a fit is drawn as a solid line over its
    window and quoted in the legend (its ``err`` as given: the callers pass the sample-bootstrap
    error).  ``slopes``: the paper's lattice-model exponents, drawn as dotted guide lines anchored
    on the first fitted curve at its kmax.
    """
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    first_fit = None
    for label, pdf, fit in curves:
        ok = pdf.counts > 0
        text = label if fit is None else f"{label}: $\\eta$ = {fit.eta:.2f}$\\pm${fit.err:.2f}"
        line, = ax.loglog(pdf.centres[ok], pdf.pdf[ok], "o-", ms=3, lw=0.8, label=text)
        if fit is not None:
            k = np.logspace(np.log10(fit.kmin), np.log10(fit.kmax), 20)
            ax.loglog(k, fit.A * k**fit.eta, "-", color=line.get_color(), lw=2.2, alpha=0.8)
            first_fit = first_fit or fit
    if first_fit is not None:
        # anchored on the first fitted curve at its kmax, drawn over the decade below
        k0, p0 = first_fit.kmax, first_fit.A * first_fit.kmax ** first_fit.eta
        for s in slopes:
            k = k0 * np.logspace(-1, 0, 10)
            ax.loglog(k, p0 * (k / k0) ** s, "k:", lw=1.2)
            ax.text(k[0], p0 * 0.1**s, f"paper's lattice {s:.2f}", fontsize=7, ha="right")
    ax.set_xlabel(r"$\kappa$")
    ax.set_ylabel(r"$p(\kappa)$")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6.5, loc="best")
    return save(fig, stem)


def fig2_scatter(panels, threshold: float, stem: str) -> list[str]:
    """Fig. 2: kappa against the pair force f, one panel per ensemble, the threshold dashed, and
    the median kappa in log bins of f.  ``panels``: list of (label, f, kappa, binned, flagged)
    with ``binned`` from :func:`analysis.glass.kappa_by_force` and ``flagged`` a bool per pair
    (its sample is flagged: drawn in red) or None."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (label, f, kappa, binned, flagged) in zip(axes[0], panels):
        pos = f > 0
        bad = np.zeros(f.shape, dtype=bool) if flagged is None else flagged
        ax.loglog(f[pos & ~bad], kappa[pos & ~bad], ".", ms=1.5, alpha=0.4, color="tab:blue", rasterized=True)
        if (pos & bad).any():
            ax.loglog(f[pos & bad], kappa[pos & bad], ".", ms=1.5, alpha=0.6, color="tab:red", rasterized=True,
                      label="flagged samples")
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
        a.errorbar(kc["T_p"], kc["ratio"], _err(kc["err"]), fmt="o-", ms=4, capsize=2, label=label)
        if gc is not None:
            b.errorbar(gc["T_p"], gc["ratio"], _err(gc["err"]), fmt="s-", ms=4, capsize=2, label=label)
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
    a.errorbar(table["N"], table["eta"], _err(table["eta_err"]), fmt="o-", capsize=2)
    if eta_ref is not None:
        a.axhline(eta_ref, ls=":", color="k", label=f"lattice model / paper {eta_ref:.2f}")
        a.legend(fontsize=7)
    b.errorbar(table["N"], table["kappa_g"], _err(table["kappa_g_err"]), fmt="s-", capsize=2)
    for ax, lab in ((a, r"$\eta$ (MLE, sample-bootstrap error)"), (b, r"$\kappa_g$")):
        ax.set_xscale("log")
        ax.set_xticks(table["N"])
        ax.set_xticklabels([f"{n:d}" for n in table["N"]], rotation=45, ha="right", fontsize=7)
        ax.minorticks_off()
        ax.set_xlabel("$N$")
        ax.set_ylabel(lab)
    fig.tight_layout()
    return save(fig, stem)


def modes_figure(stats, stem: str) -> list[str]:
    """Lowest Hessian modes: the cumulative count of modes per sample below omega (left; no
    bins, so no empty ones) and the participation ratio against omega (right).  ``stats``: list
    of (label, dict from :func:`analysis.glass.mode_statistics`)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.0, 3.8))
    for label, s in stats:
        w = np.sort(s["omega"])
        a.loglog(w, np.arange(1, w.size + 1) / max(s["samples"], 1), "-", drawstyle="steps-post", label=label)
        b.semilogy(s["omega"], s["participation"], ".", ms=3, label=label)
    a.set_xlabel(r"$\omega$")
    a.set_ylabel(r"modes per sample below $\omega$")
    b.set_xlabel(r"$\omega$")
    b.set_ylabel("participation ratio")
    a.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, stem)


def eta_scan_figure(scan: dict, eta_default, label: str, stem: str) -> list[str]:
    """eta (MLE) against kmax / peak with the sample-bootstrap band (shaded) and the naive
    pair-counting band (dashed), from :func:`analysis.estimates.window_scan`; the default
    window's estimate (an EtaEstimate or None) as a point with its bootstrap error."""
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    x, e = scan["frac_of_peak"], scan["eta"]
    ax.fill_between(x, e - scan["err_boot"], e + scan["err_boot"], color="tab:blue", alpha=0.3,
                    label="sample bootstrap (1 s.d.)")
    ax.plot(x, e, "o-", ms=3, color="tab:blue", label=r"$\eta$ (MLE on $(0, k_{max}]$)")
    ax.plot(x, e - scan["err_naive"], "k--", lw=0.8, label="pairs as independent")
    ax.plot(x, e + scan["err_naive"], "k--", lw=0.8)
    if eta_default is not None:
        ax.errorbar([eta_default.mle.kmax / scan["peak"]], [eta_default.mle.eta], _err([eta_default.err_mle_boot]),
                    fmt="s", color="tab:red", capsize=3, label=f"default window {eta_default.mle.window}")
    ax.set_xscale("log")
    ax.set_xlabel(r"$k_{max}$ / peak of $p(\kappa)$" + f" (peak at {scan['peak']:.3g})")
    ax.set_ylabel(r"$\eta$")
    ax.set_title(f"{label}: window scan", fontsize=9)
    ax.legend(fontsize=6.5)
    fig.tight_layout()
    return save(fig, stem)


def cumulative_figure(curves, label: str, stem: str, slopes=()) -> list[str]:
    """Unbinned F(kappa) on log-log axes (top) and its local exponent d log F / d log kappa - 1
    (bottom).  ``curves``: list of (label, dict from :func:`analysis.estimates.cumulative`);
    ``slopes``: (text, eta) reference lines, each anchored on the first curve at its 1 % point."""
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.2, 6.0), sharex=True)
    for name, c in curves:
        line, = a.loglog(c["kappa"], c["F"], "-", lw=1, label=name)
        b.semilogx(c["grid"], c["local_eta"], "-", lw=1, color=line.get_color())
    if curves:
        c = curves[0][1]
        k0 = c["kappa"][max(0, int(0.01 * c["kappa"].size) - 1)]
        F0 = np.searchsorted(c["kappa"], k0, side="right") / c["kappa"].size
        for text, eta in slopes:
            k = k0 * np.logspace(-1.5, 0, 10)
            a.loglog(k, F0 * (k / k0) ** (eta + 1), ":", color="k", lw=1)
            a.text(k[0], F0 * (k[0] / k0) ** (eta + 1), f"{text} {eta:.2f}", fontsize=7, va="top")
            b.axhline(eta, ls=":", color="k", lw=1)
    a.set_ylabel(r"$F(\kappa)$")
    b.set_ylabel(r"$d\log F/d\log\kappa - 1$")
    b.set_xlabel(r"$\kappa$")
    b.set_ylim(-1, 4)
    a.set_title(f"{label}: cumulative distribution", fontsize=9)
    a.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, stem)


def samples_figure(G, lambda1, flag, label: str, stem: str) -> list[str]:
    """G (left) and lambda_1 (right, log scale) per sample, flagged samples in red with their
    flag names, so one glass driving the tail shows at once."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.5, 3.4))
    idx = np.arange(len(flag))
    bad = np.array([bool(f) for f in flag], dtype=bool)
    for ax, y, name in ((a, np.asarray(G, float), "$G$"), (b, np.asarray(lambda1, float), r"$\lambda_1$")):
        ax.plot(idx[~bad], y[~bad], "o", ms=3, color="tab:blue", label="samples")
        if bad.any():
            ax.plot(idx[bad], y[bad], "o", ms=6, color="tab:red", label="flagged")
            for k in idx[bad]:
                if np.isfinite(y[k]):
                    ax.annotate(flag[k], (k, y[k]), fontsize=6, color="tab:red", xytext=(3, 3),
                                textcoords="offset points")
        ax.set_xlabel("sample")
        ax.set_ylabel(name)
    if np.isfinite(np.asarray(lambda1, float)).any():
        b.set_yscale("log")
    else:
        b.text(0.5, 0.5, "no eigenvalues stored", transform=b.transAxes, ha="center")
    a.legend(fontsize=7)
    fig.suptitle(label, fontsize=9)
    fig.tight_layout()
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
