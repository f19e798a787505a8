"""Exponents, windows, sample-bootstrap errors and outlier flags on synthetic data with a known
answer: a kappa^0.8 tail beside a steep peak, values clustered by sample (analysis.synthetic)."""

import numpy as np
import pytest

from analysis.__main__ import DEFAULT_WINDOW
from analysis.estimates import clean, cumulative, estimate, window_scan
from analysis.fits import Window, fit_eta
from analysis.samples import LAMBDA_FACTOR, flags, window_shares
from analysis.synthetic import clustered_ensemble, with_outlier

from analysis.window_study import GLASSY  # the shape of docs/analysis.md's window study


def test_default_window_recovers_the_tail_exponent_next_to_a_steep_peak():
    window = Window.parse(DEFAULT_WINDOW)
    est = [estimate(clustered_ensemble(32, 2000, seed=s, **GLASSY), window, n_boot=100) for s in range(24)]
    eta = np.array([e.mle.eta for e in est])
    err = np.array([e.err_mle_boot for e in est])
    # unbiased: the mean over 24 draws within 2.5 of its standard errors of the truth
    assert abs(eta.mean() - 0.8) < 2.5 * err.mean() / np.sqrt(eta.size), (eta.mean(), err.mean())
    # the bootstrap error bar covers the truth at about its stated 68 %
    assert 0.45 <= np.mean(np.abs(eta - 0.8) < err) <= 0.9
    # the old default (kmax at the 10 % quantile) sits in the peak's wing and is far off
    old = [estimate(clustered_ensemble(32, 2000, seed=s, **GLASSY), Window("quantile", 0.1), n_boot=2)
           for s in range(4)]
    assert min(e.mle.eta for e in old) > 1.5


def test_errors_resample_samples_not_pairs():
    groups = clustered_ensemble(32, 2000, seed=7, **GLASSY)
    # kmax held fixed, so that the window's own scatter does not enter the comparison
    w = Window("kappa", 0.0, Window.parse(DEFAULT_WINDOW).bounds(np.concatenate(groups))[1])
    e = estimate(groups, w, n_boot=200)
    # clustered values: the sample bootstrap is several times the pair-counting error
    assert e.err_mle_boot > 2.0 * e.mle.err
    # the same values dealt out at random over 100 samples lose their clustering: then the
    # sample bootstrap agrees with the pair-counting error
    pooled = np.random.default_rng(1).permutation(np.concatenate(groups))
    e2 = estimate(np.array_split(pooled, 100), w, n_boot=400)
    assert e2.err_mle_boot == pytest.approx(e2.mle.err, rel=0.2)


def test_lattice_bootstrap_over_realizations_agrees_with_the_naive_error():
    from hpcglass.lattice import generator, lattice_kappa

    batches = [lattice_kappa(2, 21, 5000, generator(np.random.SeedSequence(5, spawn_key=(t,))))
               for t in range(40)]
    e = estimate(batches, Window.parse(DEFAULT_WINDOW), n_boot=400)
    assert e.n_samples == 40 and e.mle.n > 500
    assert e.err_mle_boot == pytest.approx(e.mle.err, rel=0.25)


def test_truncated_window_mle_and_bad_windows():
    rng = np.random.default_rng(3)
    k = (1 - rng.random(400_000)) ** (1 / 1.8)
    lsq, f = fit_eta(k, Window.parse("kappa:0.1,0.5"))  # the truncated power law on [0.1, 0.5)
    assert abs(f.eta - 0.8) < 3 * f.err and f.kmin >= 0.1 and f.A == pytest.approx(1.8, rel=0.02)
    assert abs(lsq.eta - 0.8) < 3 * lsq.err and lsq.kmin <= 0.1
    with pytest.raises(ValueError, match="holds 1 values"):
        fit_eta(np.r_[np.full(100, 20.0), 0.5], Window.parse("kappa:0,1"))
    peaked = np.exp(np.random.default_rng(0).normal(np.log(20), 0.3, 5000))
    with pytest.raises(ValueError, match="above the peak"):
        fit_eta(peaked, Window.parse("kappa:0,40"))
    for bad in ("peak:2", "kappa:3,1", "quantile", "median:0.1", "kappa:0,inf"):
        with pytest.raises(ValueError, match="expected"):
            Window.parse(bad)


def test_window_scan_and_cumulative_slope_on_a_pure_power_law():
    groups = [(1 - np.random.default_rng(s).random(5000)) ** (1 / 1.8) for s in range(20)]
    scan = window_scan(groups, n_boot=100)
    assert scan["kmax"].size >= 10 and np.all(np.diff(scan["kmax"]) < 0)
    assert scan["frac_of_peak"][0] == pytest.approx(0.5) and scan["frac_of_peak"][-1] <= 0.05
    assert np.all(np.abs(scan["eta"] - 0.8) < 4 * scan["err_boot"])
    c = cumulative(np.concatenate(groups))
    sel = (c["grid"] > 3e-2) & (c["grid"] < 0.3)
    np.testing.assert_allclose(c["local_eta"][sel], 0.8, atol=0.1)
    assert c["F"][-1] == 1.0 and np.all(np.diff(c["kappa"]) >= 0)


def test_clean_counts_what_it_drops():
    groups, dropped = clean([np.array([1.0, -1.0, np.nan, 2.0]), np.array([np.inf, 3.0])])
    assert [g.tolist() for g in groups] == [[1.0, 2.0], [3.0]] and dropped.tolist() == [2, 1]


def _diagnostics(n, seed):
    rng = np.random.default_rng(seed)
    G = rng.normal(11.5, 0.35, n)
    lam1 = 0.6 * rng.weibull(2.5, n)  # P(lambda_1 < x) ~ x^2.5, the D(omega) ~ omega^4 law
    return G, lam1


def test_no_flags_on_an_ensemble_without_outliers():
    groups = clustered_ensemble(200, 2000, seed=11, **GLASSY)
    G, lam1 = _diagnostics(200, 4)
    kmax = Window.parse(DEFAULT_WINDOW).bounds(np.concatenate(groups))[1]
    assert flags(G, lam1, np.zeros(200), window_shares(groups, kmax)) == [""] * 200


def test_a_planted_outlier_is_flagged_and_its_effect_on_eta_shown():
    groups = with_outlier(clustered_ensemble(56, 2000, seed=12, **GLASSY), share=0.35)
    G, lam1 = _diagnostics(56, 5)
    G[0], lam1[0] = 3.13, 0.6 / (3 * LAMBDA_FACTOR)
    w = Window.parse(DEFAULT_WINDOW)
    kmax = w.bounds(np.concatenate(groups))[1]
    shares = window_shares(groups, kmax)
    unstable = np.zeros(56)
    unstable[9] = 1
    f = flags(G, lam1, unstable, shares)
    assert f[0] == "G_low+lambda1_low+window_share" and f[9] == "unstable" and set(f[1:9] + f[10:]) == {""}
    all_ = estimate(groups, w, n_boot=100)
    kept = estimate([g for g, fl in zip(groups, f) if not fl], w, n_boot=100)
    assert shares[0] > 0.3
    assert abs(kept.mle.eta - 0.8) < 2.5 * kept.err_mle_boot
    assert all_.mle.eta < kept.mle.eta - 2 * kept.err_mle_boot  # the one sample drags eta down
