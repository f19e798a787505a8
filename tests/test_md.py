"""NVT MD: the thermostat samples the canonical kinetic-energy law, NVE conserves energy,
NVT holds the target temperature, the quench follows its ramp."""

import numpy as np
import pytest
from scipy import stats

from hpcglass.sampling.md import (bussi_factor, default_dt, linear_quench, maxwell_velocities, run_nvt)


def soft_force(L, sigma=1.0):
    """phi = (1 - (r/sigma)^2)^3 for r < sigma: smooth (C2), all pairs, minimum image; numpy reference."""
    def force(x):
        dx = x[:, None, :] - x[None, :, :]
        dx -= L * np.round(dx / L)
        r2 = np.einsum("ijk,ijk->ij", dx, dx)
        np.fill_diagonal(r2, np.inf)
        s = np.clip(1.0 - r2 / sigma**2, 0.0, None)
        U = 0.5 * np.sum(s**3)
        # -dphi/dr * (dx/r) = 6 s^2 dx / sigma^2
        F = np.einsum("ij,ijk->ik", 6.0 * s**2 / sigma**2, dx)
        return U, F
    return force


def test_thermostat_kinetic_energy_is_canonical():
    rng = np.random.default_rng(0)
    n_dof, T, c = 18, 0.7, np.exp(-0.2)
    K, samples = 5.0, []
    for _ in range(60000):
        K *= bussi_factor(K, 0.5 * n_dof * T, n_dof, c, rng) ** 2
        samples.append(K)
    samples = np.array(samples[1000::10])
    assert np.mean(samples) == pytest.approx(0.5 * n_dof * T, rel=0.02)
    assert np.var(samples) == pytest.approx(0.5 * n_dof * T**2, rel=0.08)
    assert stats.kstest(samples, stats.gamma(0.5 * n_dof, scale=T).cdf).pvalue > 1e-3


def _liquid(N=64, rho=1.0, seed=1):
    L = np.sqrt(N / rho)
    g = np.arange(int(np.sqrt(N))) * (L / np.sqrt(N))
    x = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2) + 0.01 * np.random.default_rng(seed).normal(size=(N, 2))
    return x, L


def test_nve_energy_is_conserved():
    x, L = _liquid()
    rng = np.random.default_rng(2)
    f = soft_force(L)
    v = maxwell_velocities(len(x), 2, 0.5, rng)
    E = []
    for _ in range(10):
        res = run_nvt(x, v, L, f, 0.005, 200, 0.0, rng, thermostat=False)
        x, v = res.x, res.v
        E.append(res.U + 0.5 * np.sum(v * v))
    assert np.ptp(E) / abs(np.mean(E)) < 1e-4
    assert np.allclose(v.sum(axis=0), 0.0, atol=1e-12)


def test_nvt_holds_the_temperature_and_quench_follows_its_ramp():
    x, L = _liquid()
    rng = np.random.default_rng(3)
    f = soft_force(L)
    v = maxwell_velocities(len(x), 2, 2.0, rng)
    eq = run_nvt(x, v, L, f, 0.005, 1000, 0.4, rng, tau_T=0.2)
    prod = run_nvt(eq.x, eq.v, L, f, 0.005, 6000, 0.4, rng, tau_T=0.2)
    assert prod.T_mean == pytest.approx(0.4, rel=0.04)
    assert_quench_follows_ramp(prod.x, prod.v, L, f, rng, thermostat=True)


def assert_quench_follows_ramp(x, v, L, f, rng, thermostat):
    """Quench 0.4 -> 0.08 at rate 0.04 in 8 segments of t = 1 (200 steps): each segment's mean
    kinetic temperature is its ramp's mean within 5 standard errors.  T = 0 is not reached: the
    integrator zeroes the velocities there whatever the thermostat does."""
    ramp = linear_quench(0.4, 0.04)
    n_dof, steps, dt = 2 * 63, 200, 0.005
    for k in range(8):
        t0 = k * steps * dt
        q = run_nvt(x, v, L, f, dt, steps, lambda t, t0=t0: ramp(t0 + t), rng, tau_T=0.2, thermostat=thermostat)
        x, v = q.x, q.v
        target = 0.4 - 0.04 * (t0 + 0.5 * steps * dt)
        # per-step fluctuation T sqrt(2 / n_dof), about steps dt / (2 tau_T) = 2.5 independent blocks
        err = target * np.sqrt(2.0 / n_dof) / np.sqrt(2.5)
        assert abs(q.T_mean - target) < 5.0 * err, (k, q.T_mean, target)
    assert linear_quench(1.0, 1e-3)(500.0) == pytest.approx(0.5) and linear_quench(1.0, 1e-3)(2000.0) == 0.0


def test_default_dt():
    assert default_dt(1.0) == 0.0025 and default_dt(0.45) == 0.005


def test_equilibration_record_weights_blocks_by_length():
    from hpcglass.workflows import EQ_BLOCKS, equilibration_record
    means = np.arange(EQ_BLOCKS, dtype=float)
    lengths = np.full(EQ_BLOCKS, 3)
    lengths[8], lengths[12:] = 1, 0  # a short block; an empty fourth quarter
    means[12:] = np.nan
    rec = equilibration_record(means, lengths)
    assert np.array_equal(rec["eq_energy_series"], means, equal_nan=True)
    assert rec["eq_energy_halves"][0] == pytest.approx((8 * 1 + (9 + 10 + 11) * 3) / 10)
    assert np.isnan(rec["eq_energy_halves"][1])
