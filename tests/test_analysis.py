"""Analysis package on synthetic data with known answers, and its CLI on a synthetic run file."""

import csv
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from analysis.distributions import log_binned_pdf, pdf_from_counts
from analysis.fits import default_window, fit_eta, fit_eta_lsq, fit_eta_mle
from analysis.io import RunFileError, open_run

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
    hits = [abs(fit_eta_mle(power_law(2000, 0.8, s), 0.3).eta - 0.8) < fit_eta_mle(power_law(2000, 0.8, s), 0.3).err
            for s in range(300)]
    assert 0.60 <= np.mean(hits) <= 0.76  # 68 % for a 1-sigma error bar


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


def test_default_window():
    k = power_law(100_000, 0.8, 5)
    kmin, kmax = default_window(k, 0.01, 10, min_counts=20)
    assert np.mean(k < kmax) == pytest.approx(0.01, abs=1e-4)
    assert np.count_nonzero((k >= kmin / 10**0.1) & (k < kmin)) < 20 <= np.count_nonzero((k >= kmin) & (k < kmin * 10**0.1))


def _write_run(path, kappa_per_task, d=2):
    off = np.concatenate([[0], np.cumsum([len(k) for k in kappa_per_task])])
    with h5py.File(path, "w") as h5:
        h5.attrs["hpcglass_schema"] = 1
        h5.create_group("provenance").attrs["input_yaml"] = "run: {seed: 1}"
        g = h5.create_group("ensembles").create_group("lattice_d2")
        g.attrs["kind"] = "lattice"
        g.attrs["params"] = json.dumps({"d": d, "L": 101})
        g["kappa"] = np.concatenate(kappa_per_task)
        g["kappa_offsets"] = off
        g["status"] = np.array([b"done"] * len(kappa_per_task), dtype="S8")


def test_run_file_readers_and_cli(tmp_path):
    parts = [power_law(30_000, 0.9, s) for s in range(3)]
    run = tmp_path / "run.h5"
    _write_run(run, parts)
    (ens,) = open_run(str(run))
    assert ens.kind == "lattice" and ens.params["d"] == 2
    assert all(np.array_equal(a, b) for a, b in zip(ens.ragged("kappa"), parts))
    assert ens.values("kappa").shape == (90_000,) and ens.done().all()
    out = tmp_path / "plots"
    r = subprocess.run([sys.executable, "-m", "analysis", str(run), "--plots", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(out / "eta.csv")))
    assert len(rows) == 1 and rows[0]["ensemble"] == "lattice_d2" and rows[0]["eta_paper"] == "0.9"
    assert abs(float(rows[0]["eta_mle"]) - 0.9) < 3 * float(rows[0]["err_mle"])
    assert (out / "fig3b_lattice.png").stat().st_size > 1000 and (out / "fig3b_lattice.pdf").exists()
    assert (out / "pkappa_lattice_d2.csv").exists()


def test_cli_errors(tmp_path):
    r = subprocess.run([sys.executable, "-m", "analysis", str(tmp_path / "none.h5"), "--plots", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "no such file" in r.stderr
    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5["x"] = 1
    with pytest.raises(RunFileError, match="not an hpcglass run file"):
        open_run(str(tmp_path / "other.h5"))
