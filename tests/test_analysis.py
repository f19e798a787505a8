"""Analysis package on synthetic data with known answers, and its CLI on a synthetic run file."""

import csv
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from analysis.distributions import log_binned_pdf, pdf_from_counts, pdf_from_histogram
from analysis.fits import default_window, fit_eta, fit_eta_lsq, fit_eta_mle
from analysis.glass import (GlassSummary, bootstrap_pooled_mean, growth_factor, kappa_by_force,
                            relative_to_highest_T)
from analysis.io import RunFileError, open_run, provenance

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def power_law(n, eta, seed):
    """n draws from p(k) = (eta+1) k^eta on (0, 1]."""
    return (1.0 - np.random.default_rng(seed).random(n)) ** (1.0 / (eta + 1.0))


def test_both_estimators_recover_eta():
    k = power_law(400_000, 0.8, 1)
    lsq, mle = fit_eta(k, frac=0.01)
    for fit in (lsq, mle):
        assert abs(fit.eta - 0.8) < 3 * fit.err, fit
        assert fit.err < 0.05
    assert mle.A == pytest.approx(1.8, rel=0.05)  # the prefactor of 1.8 k^0.8
    assert lsq.A == pytest.approx(1.8, rel=0.15)


def test_mle_error_has_its_stated_coverage():
    fits = [fit_eta_mle(power_law(2000, 0.8, s), 0.3) for s in range(200)]
    hits = [abs(f.eta - 0.8) < f.err for f in fits]
    assert 0.60 <= np.mean(hits) <= 0.76  # 68 % for a 1-sigma error bar
    assert all(f.n < 2000 and f.kmax == 0.3 for f in fits)


def test_small_sample_estimators_within_three_sigma():
    k = power_law(20_000, 0.8, 11)
    lsq, mle = fit_eta(k, frac=0.05)
    assert abs(lsq.eta - 0.8) < 3 * lsq.err and abs(mle.eta - 0.8) < 3 * mle.err
    assert "quantile" in lsq.window and lsq.window == mle.window
    with pytest.raises(Exception):
        lsq.eta = 1.0  # frozen


def test_lsq_distinguishes_exponents():
    a = fit_eta_lsq(log_binned_pdf(power_law(200_000, 0.5, 2), 10), 1e-3, 0.5)
    b = fit_eta_lsq(log_binned_pdf(power_law(200_000, 1.5, 3), 10), 1e-2, 0.5)
    assert a.eta == pytest.approx(0.5, abs=0.05) and b.eta == pytest.approx(1.5, abs=0.05)


def test_pdf_normalised_and_prebinned_equals_raw():
    k = power_law(50_000, 0.8, 4)
    pdf = log_binned_pdf(k, 10)
    assert np.sum(pdf.pdf * np.diff(pdf.edges)) == pytest.approx(1.0, rel=1e-12)
    edges = np.logspace(-4, 0, 41)
    counts, _ = np.histogram(k, edges)
    below = np.count_nonzero(k < edges[0])
    pre = pdf_from_counts(counts, edges, total=counts.sum() + below)
    raw = log_binned_pdf(k, 10, lo=1e-4, hi=1.0)
    assert np.allclose(pre.pdf, raw.pdf) and np.array_equal(pre.counts, raw.counts)
    # the same from per-task histograms (n_t, nbins) and per-task below counts, as stored
    halves = [k[:20_000], k[20_000:]]
    per_task = np.array([np.histogram(h, edges)[0] for h in halves])
    below_t = np.array([np.count_nonzero(h < edges[0]) for h in halves])
    hist = pdf_from_histogram(per_task, below_t, edges)
    assert np.allclose(hist.pdf, raw.pdf) and hist.total == k.size


def test_default_window():
    k = power_law(100_000, 0.8, 5)
    kmin, kmax = default_window(k, 0.01, 10, min_counts=20)
    assert np.mean(k < kmax) == pytest.approx(0.01, abs=1e-4)
    assert np.count_nonzero((k >= kmin / 10**0.1) & (k < kmin)) < 20 <= np.count_nonzero((k >= kmin) & (k < kmin * 10**0.1))


EDGES = np.logspace(-9, 0, 9 * 20 + 1)


def _write_run(path, kappa_per_task, d=2, failed=()):
    """A run file in the schema of docs/output.md; tasks in ``failed`` have no values."""
    kappa_per_task = [np.zeros(0) if t in failed else k for t, k in enumerate(kappa_per_task)]
    n_t = len(kappa_per_task)
    off = np.concatenate([[0], np.cumsum([len(k) for k in kappa_per_task])])
    status = np.array([b"failed" if t in failed else b"done" for t in range(n_t)], dtype="S8")
    with h5py.File(path, "w") as h5:
        h5.attrs["hpcglass_schema"] = 1
        h5.create_group("provenance").attrs.update({"input_yaml": "run: {seed: 1}", "root_seed": 1, "n_ranks": 2})
        t = h5.create_group("tasks")
        t["index"] = np.arange(n_t, dtype=np.int64)
        t["ensemble"] = np.array([b"lattice_d2"] * n_t, dtype="S64")
        t["status"] = status
        t["wall_time"] = np.ones(n_t)
        t["reason"] = np.array([b"RuntimeError: x" if s == b"failed" else b"" for s in status], dtype="S256")
        g = h5.create_group("ensembles").create_group("lattice_d2")
        g.attrs["kind"] = "lattice"
        g.attrs["params"] = json.dumps({"name": "lattice_d2", "kind": "lattice", "d": d, "L": 101,
                                        "hist_min": 1e-9, "hist_bins_per_decade": 20})
        g["task_index"] = np.arange(n_t, dtype=np.int64)
        g["status"] = status
        g["kappa"] = np.concatenate(kappa_per_task)
        g["kappa_offsets"] = off
        g["hist_counts"] = np.array([np.histogram(k, EDGES)[0] for k in kappa_per_task], dtype=np.int64)
        g["hist_below"] = np.array([np.count_nonzero(k < EDGES[0]) for k in kappa_per_task], dtype=np.int64)
        g["hist_edges"] = EDGES


def test_run_file_readers_and_cli(tmp_path):
    parts = [power_law(30_000, 0.9, s) for s in range(4)]
    run = tmp_path / "run.h5"
    _write_run(run, parts, failed=(2,))
    (ens,) = open_run(str(run))
    assert ens.kind == "lattice" and ens.params["d"] == 2 and ens.params["hist_bins_per_decade"] == 20
    assert provenance(str(run))["n_ranks"] == 2
    split = ens.ragged("kappa")
    assert [len(a) for a in split] == [30_000, 30_000, 0, 30_000]
    assert all(np.array_equal(split[t], parts[t]) for t in (0, 1, 3))
    assert np.array_equal(ens.values("kappa"), np.concatenate([parts[0], parts[1], parts[3]]))
    assert ens.done().tolist() == [True, True, False, True]
    assert ens.array("hist_counts").shape == (4, 180) and ens.array("hist_counts", done_only=True).shape == (3, 180)
    counts, below, edges = ens.histogram()
    hist = pdf_from_histogram(counts, below, edges)
    raw = log_binned_pdf(ens.values("kappa"), 20, lo=1e-9, hi=1.0)
    assert hist.total == 90_000 and np.allclose(hist.pdf, raw.pdf)
    out = tmp_path / "plots"
    r = subprocess.run([sys.executable, "-m", "analysis", str(run), "--plots", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(out / "eta.csv")))
    assert len(rows) == 1 and rows[0]["ensemble"] == "lattice_d2" and rows[0]["eta_paper"] == "0.9"
    assert abs(float(rows[0]["eta_mle"]) - 0.9) < 3 * float(rows[0]["err_mle"])
    assert (out / "fig3b_lattice.png").stat().st_size > 1000 and (out / "fig3b_lattice.pdf").exists()
    pk = np.loadtxt(out / "pkappa_lattice_d2.csv", delimiter=",", skiprows=1)
    assert pk.shape[1] == 3 and pk[:, 2].sum() == 90_000
    assert "lattice_d2" in r.stdout and "0.90" in r.stdout


def test_cli_errors(tmp_path):
    r = subprocess.run([sys.executable, "-m", "analysis", str(tmp_path / "none.h5"), "--plots", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "no such file" in r.stderr
    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5["x"] = 1
    with pytest.raises(RunFileError, match="not an hpcglass run file"):
        open_run(str(tmp_path / "other.h5"))
    r = subprocess.run([sys.executable, "-m", "analysis", str(tmp_path / "other.h5"), "--plots", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "not an hpcglass run file" in r.stderr
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(RunFileError, match="not an HDF5 file"):
        open_run(str(tmp_path / "text.h5"))


def test_analysis_does_not_import_mpi_or_hpcglass():
    code = "import sys, analysis.__main__; bad = [m for m in ('mpi4py', 'petsc4py', 'hpcglass') if m in sys.modules]; print(bad)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr


def test_generic_ragged_fields_of_a_glass_ensemble(tmp_path):
    rng = np.random.default_rng(7)
    per_task = [(power_law(n, 0.8, n), rng.normal(size=(n, 2))) for n in (5, 0, 7)]
    run = tmp_path / "glass.h5"
    with h5py.File(run, "w") as h5:
        h5.attrs["hpcglass_schema"] = 1
        g = h5.create_group("ensembles").create_group("ipl_d2")
        g.attrs.update({"kind": "glass", "params": json.dumps({"model": "ipl", "d": 2, "N": 64, "T_p": 1.0,
                                                               "protocol": "instantaneous", "pairs": "threshold"})})
        g["status"] = np.array([b"done", b"failed", b"done"], dtype="S8")
        g["task_index"] = np.array([3, 4, 5])
        for i, name in enumerate(("kappa", "f")):
            g[name] = np.concatenate([t[i] for t in per_task])
            g[name + "_offsets"] = np.concatenate([[0], np.cumsum([len(t[i]) for t in per_task])])
        g["energy"] = np.array([1.0, np.nan, 2.0])
    (ens,) = open_run(str(run))
    assert ens.kind == "glass" and ens.is_ragged("f") and not ens.is_ragged("energy")
    assert ens.values("f").shape == (12, 2) and [len(a) for a in ens.ragged("kappa")] == [5, 0, 7]
    assert np.array_equal(ens.array("energy", done_only=True), [1.0, 2.0])
    r = subprocess.run([sys.executable, "-m", "analysis", str(run), "--plots", str(tmp_path / "p")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr  # too few values to fit: reported, not a crash
    assert not (tmp_path / "p" / "fig3b_lattice.png").exists()


def test_bootstrap_error_covers_the_truth_at_its_stated_rate():
    """Pairs of one sample share a sample-level offset (correlated); the bootstrap over samples
    must still give a 1-sigma interval that holds the true mean about 68 % of the time."""
    rng = np.random.default_rng(3)
    hits = []
    for _ in range(300):
        groups = [5.0 + rng.normal() + rng.normal(size=rng.integers(20, 60)) for _ in range(25)]
        mean, err = bootstrap_pooled_mean(groups, n_boot=400, rng=rng)
        hits.append(abs(mean - 5.0) < err)
    assert 0.60 <= np.mean(hits) <= 0.78
    assert np.isnan(bootstrap_pooled_mean([np.ones(3)])[1])


def test_growth_ratios_and_kappa_by_force():
    s = [GlassSummary("g", f"e{T}", "poly", 3, 500, T, "instantaneous", "threshold", 4, 100, k, 0.1 * k,
                      G, 0.0, -1.0, 0.0, 0.0) for T, k, G in ((0.5, 8.0, 15.0), (2.0, 2.0, 10.0), (1.0, 4.0, 12.0))]
    c = relative_to_highest_T(s, "kappa_g")
    assert c["T_p"].tolist() == [2.0, 1.0, 0.5] and np.allclose(c["ratio"], [1, 2, 4])
    assert c["err"][2] == pytest.approx(4 * np.sqrt(2) * 0.1)
    assert growth_factor(s, "G") == pytest.approx((1.5, 0.0))
    rng = np.random.default_rng(1)
    f = 10 ** rng.uniform(-7, 1, 20000)
    kappa = rng.lognormal(0, 0.3, f.size) * np.where(f > 1e-3, 1 + (f / 1e-3) ** 0.3, 2.0)
    b = kappa_by_force(f, kappa)
    assert b["below"] == pytest.approx(2.0, rel=0.05) and b["above_max"] > 5 * b["below"]


def _glass_ensemble(g, params, kappa, f, G, halves, eig=None):
    n_t = len(kappa)
    g.attrs.update({"kind": "glass", "params": json.dumps(params)})
    g["status"] = np.array([b"done"] * n_t, dtype="S8")
    g["task_index"] = np.arange(n_t)
    for name, per in (("kappa", kappa), ("f", f)):
        g[name] = np.concatenate(per)
        g[name + "_offsets"] = np.concatenate([[0], np.cumsum([len(a) for a in per])])
    g["G"], g["energy"], g["eq_energy_halves"] = G, np.full(n_t, -1.0), halves
    g["eq_energy_series"] = np.repeat(halves, 8, axis=1)
    if eig is not None:
        g["eigenvalues"], g["participation"] = eig, np.full(eig.shape, 0.1)


def test_cli_glass_tables_and_figures(tmp_path):
    """Three T_p of POLY 3D with known kappa_g and G ratios, one extra N, modes and a scatter."""
    rng = np.random.default_rng(2)
    run = tmp_path / "study.h5"
    with h5py.File(run, "w") as h5:
        h5.attrs["hpcglass_schema"] = 1
        h5.create_group("provenance").attrs["input_path"] = "/x/inputs/small/fig5_study.yaml"
        eg = h5.create_group("ensembles")
        for T, scale, N, pairs in ((2.0, 1.0, 500, "threshold"), (1.0, 2.0, 500, "threshold"),
                                   (0.5, 4.0, 500, "threshold"), (0.5, 4.0, 1000, "threshold"), (0.5, 9.0, 500, "all")):
            kappa = [scale * power_law(400, 0.8, int(100 * T + N + k)) for k in range(4)]
            kappa = [k * (scale / 1.8 * 2.8) / k.mean() for k in kappa]  # every sample mean: scale * 2.8/1.8
            f = [10 ** rng.uniform(-6, 1, 400) for _ in range(4)]
            params = {"model": "poly", "d": 3, "N": N, "T_p": T, "protocol": "instantaneous", "pairs": pairs}
            _glass_ensemble(eg.create_group(f"poly_T{T}_N{N}_{pairs}"), params, kappa, f, np.full(4, 10.0 + T),
                            np.tile([[-2.0, -2.0]], (4, 1)) + rng.normal(0, 1e-3, (4, 2)),
                            eig=np.abs(rng.normal(1, 0.3, (4, 5))))
    out = tmp_path / "p"
    r = subprocess.run([sys.executable, "-m", "analysis", str(run), "--plots", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert r.returncode == 0, r.stderr
    rows = {row["T_p"]: row for row in csv.DictReader(open(out / "growth.csv"))}
    assert float(rows["0.5"]["kappa_g_ratio"]) == pytest.approx(4.0) and rows["0.5"]["reference_T_p"] == "2.0"
    assert float(rows["0.5"]["G_ratio"]) == pytest.approx(10.5 / 12.0)
    glass = list(csv.DictReader(open(out / "glass.csv")))
    assert len(glass) == 5 and {g["group"] for g in glass} == {"fig5_study"}
    hot = next(g for g in glass if g["T_p"] == "2.0")
    assert float(hot["kappa_g"]) == pytest.approx(2.8 / 1.8) and float(hot["kappa_g_err"]) < 1e-9
    eq = [row for row in csv.DictReader(open(out / "equilibration.csv")) if row["tag"] == hot["tag"]]
    assert [int(row["block"]) for row in eq] == list(range(16))
    assert float(eq[-1]["energy"]) == pytest.approx(-2.0, abs=2e-3) and float(eq[-1]["energy_err"]) < 1e-3
    fs = np.genfromtxt(out / "finite_size_poly3d.csv", delimiter=",", names=True)
    assert fs["N"].tolist() == [500, 1000]
    for fig in ("pkappa_fig5_study", "fig2_scatter_fig5_study", "fig6_kappa_g_G", "fig8_finite_size_poly3d",
                "modes_fig5_study"):
        assert (out / f"{fig}.png").stat().st_size > 1000 and (out / f"{fig}.pdf").exists(), fig
    assert np.loadtxt(out / "modes_poly_T2.0_N500_threshold.csv", delimiter=",", skiprows=1).shape == (20, 2)
    # the all-pairs ensemble feeds Fig. 2 only, not the Fig. 6 or Fig. 8 curves
    assert (out / "scatter_poly_T0.5_N500_all.csv").exists() and len(rows) == 3 and fs["N"].size == 2


def test_prefactor_at_fixed_eta():
    from analysis.fits import prefactor_at
    k = 3.0 * power_law(200_000, 0.8, 21)  # p = 1.8 k^0.8 / 3^1.8 on (0, 3]
    assert prefactor_at(k, 0.8, 1.0) == pytest.approx(1.8 / 3.0**1.8, rel=0.02)


def test_cli_fig1_from_stored_fields(tmp_path):
    rng = np.random.default_rng(4)
    run = tmp_path / "f1.h5"
    N, L = 100, 10.0
    with h5py.File(run, "w") as h5:
        h5.attrs["hpcglass_schema"] = 1
        h5.create_group("provenance")
        g = h5.create_group("ensembles").create_group("ipl2d")
        params = {"model": "ipl", "d": 2, "N": N, "T_p": 1.0, "protocol": "continuous", "pairs": "threshold"}
        _glass_ensemble(g, params, [power_law(50, 0.9, 1)], [rng.uniform(0, 1e-3, 50)], np.array([10.0]),
                        np.array([[1.0, 1.0]]))
        g["position"] = rng.random((1, N, 2)) * L
        g["box"] = np.array([L])
        g["mode_vector"] = rng.normal(size=(1, 1, N, 2))
        g["response_field"] = rng.normal(size=(1, 1, N, 2))
        g["response_pair"] = np.array([[[3, 7]]])
    out = tmp_path / "p"
    r = subprocess.run([sys.executable, "-m", "analysis", str(run), "--plots", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (out / "fig1_ipl2d.png").stat().st_size > 1000 and (out / "fig1_ipl2d.pdf").exists()
    fields = np.genfromtxt(out / "fields_ipl2d.csv", delimiter=",", names=True)
    assert fields.dtype.names == ("x", "y", "mode_x", "mode_y", "response_x", "response_y") and fields.size == N


def test_cli_flags_an_outlier_sample_and_reports_both_subsets(tmp_path):
    """A planted near-unstable sample (old run file: no eigenvalues stored) is flagged in
    samples.csv, eta.csv and glass.csv carry all and unflagged rows, the scan and cumulative
    outputs exist, and an ensemble whose window is empty is reported while the other goes on."""
    from analysis.synthetic import clustered_ensemble, with_outlier
    from analysis.window_study import GLASSY

    kappa = with_outlier(clustered_ensemble(24, 1500, seed=3, **GLASSY), share=0.35)
    G = np.random.default_rng(0).normal(11.5, 0.3, 24)
    G[0] = 3.1
    run = tmp_path / "fig4.h5"
    with h5py.File(run, "w") as h5:
        h5.attrs["hpcglass_schema"] = 1
        h5.create_group("provenance").attrs["input_path"] = "/x/inputs/paper/fig4.yaml"
        eg = h5.create_group("ensembles")
        params = {"model": "poly", "d": 3, "N": 2000, "T_p": 0.5, "protocol": "instantaneous", "pairs": "random"}
        f = [np.full(k.size, 0.1) for k in kappa]
        _glass_ensemble(eg.create_group("poly"), params, kappa, f, G, np.zeros((24, 2)))
        few = [np.full(50, 20.0) for _ in range(3)]
        _glass_ensemble(eg.create_group("few"), params, few, [np.ones(50)] * 3, np.full(3, 11.0), np.zeros((3, 2)))
    out = tmp_path / "p"
    r = subprocess.run([sys.executable, "-m", "analysis", str(run), "--plots", str(out), "--boot", "200"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "warning: ensemble few: window peak:0.3" in r.stdout and "no eigenvalues stored" in r.stdout
    samples = list(csv.DictReader(open(out / "samples.csv")))
    poly = [s for s in samples if s["ensemble"] == "poly"]
    assert len(poly) == 24 and poly[0]["flag"] == "G_low+window_share" and all(s["flag"] == "" for s in poly[1:])
    assert poly[0]["lambda_1"] == "nan" and float(poly[0]["window_share"]) > 0.3
    eta = {row["subset"]: row for row in csv.DictReader(open(out / "eta.csv")) if row["ensemble"] == "poly"}
    assert eta["unflagged"]["n_excluded"] == "1" and eta["all"]["n_samples"] == "24"
    assert eta["unflagged"]["n_samples"] == "23"
    kept = eta["unflagged"]
    assert abs(float(kept["eta_mle"]) - 0.8) < 3 * float(kept["err_mle_boot"])
    assert float(eta["all"]["eta_mle"]) < float(kept["eta_mle"]) - 2 * float(kept["err_mle_boot"])
    assert float(kept["err_mle_boot"]) > float(kept["err_mle"])  # clustered: the bootstrap is the larger
    assert kept["window_rule"] == "peak:0.3"
    glass = [row for row in csv.DictReader(open(out / "glass.csv")) if row["ensemble"] == "poly"]
    assert [g["subset"] for g in glass] == ["all", "unflagged"]
    assert float(glass[1]["G"]) == pytest.approx(G[1:].mean()) and float(glass[0]["G"]) == pytest.approx(G.mean())
    scan = np.genfromtxt(out / "eta_scan_poly.csv", delimiter=",", names=True)
    assert scan["frac_of_peak"][0] == pytest.approx(0.5) and np.all(scan["err_boot"][:5] > scan["err_naive"][:5])
    for fig in ("eta_scan_poly", "cumulative_poly", "samples_poly", "fig2_scatter_fig4"):
        assert (out / f"{fig}.png").stat().st_size > 1000, fig
    bad = subprocess.run([sys.executable, "-m", "analysis", str(run), "--plots", str(out), "--window", "peak:3"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and "expected quantile:F" in bad.stderr
