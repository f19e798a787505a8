"""Lattice model (paper Sec. III C, Eqs. 8-10): exact small cases, a plain loop, the omega law,
and independence of buffering, batching and rank count."""

import itertools

import numpy as np
import pytest
from scipy import stats

import hpcglass.lattice as kappa_module
from hpcglass.lattice import generator, kappa_from_uniforms, lattice_kappa, site_weights


def _plain_kappa(omega: np.ndarray, d: int, L: int) -> float:
    """Eqs. (8)-(10) site by site, straight from the paper."""
    c = (L - 1) // 2
    a = omega[(c,) * d] ** -2
    b = omega[(c,) * d] ** -4
    for site in itertools.product(range(L), repeat=d):
        if site == (c,) * d:
            continue
        r = np.sqrt(sum((s - c) ** 2 for s in site))
        a += r ** (-2 * d) * omega[site] ** -2
        b += r ** (-2 * d) * omega[site] ** -4
    return a / b


def test_site_weights_layout():
    assert np.array_equal(site_weights(1, 5), [0.25, 1.0, 1.0, 1.0, 0.25])  # r^-2 with r = 2, 1, 0 -> 1, 1, 2
    w2 = site_weights(2, 3).reshape(3, 3)  # r^-4: edges 1, corners (r^2 = 2) 1/4, centre 1
    assert np.array_equal(w2, [[0.25, 1, 0.25], [1, 1, 1], [0.25, 1, 0.25]])
    w3 = site_weights(3, 5).reshape(5, 5, 5)
    assert w3[2, 2, 2] == 1 and w3[0, 1, 4] == pytest.approx((4 + 1 + 4) ** -3.0, rel=1e-15)


def test_omega_m2_matches_pow():
    u = np.concatenate([1.0 - np.random.default_rng(0).random(100_000), [2.0**-53, 2.0**-30, 0.5, 1.0 - 2.0**-53, 1.0]])
    t = kappa_module._omega_m2(u.copy())
    assert np.allclose(t, u**-0.4, rtol=1e-14, atol=0) and np.all(t >= 1.0) and t[-1] == 1.0


def test_d1_L3_by_hand():
    # omega = (0.5, 0.8, 0.25); centre 0.8, both neighbours at r = 1 with weight 1.
    omega = np.array([0.5, 0.8, 0.25])
    a = 0.8**-2 + 0.5**-2 + 0.25**-2  # 1.5625 + 4 + 16
    b = 0.8**-4 + 0.5**-4 + 0.25**-4  # 2.44140625 + 16 + 256
    assert a == pytest.approx(21.5625) and b == pytest.approx(274.44140625)
    k = kappa_from_uniforms((omega**5)[None, :], site_weights(1, 3))
    assert k[0] == pytest.approx(21.5625 / 274.44140625, rel=1e-14)


def test_d2_L3_by_hand():
    # All omega = 1 except the centre (0.5) and one diagonal corner (0.5):
    # weights: 4 edge neighbours r = 1 -> 1, 4 corners r^2 = 2 -> 1/4.
    omega = np.ones((3, 3))
    omega[1, 1] = 0.5
    omega[0, 0] = 0.5
    a = 4 + (4 * 1 + 3 * 0.25 * 1 + 0.25 * 4)  # centre 0.5^-2 = 4; corner 0.5^-2 = 4
    b = 16 + (4 * 1 + 3 * 0.25 * 1 + 0.25 * 16)
    k = kappa_from_uniforms((omega**5).reshape(1, 9), site_weights(2, 3))
    assert k[0] == pytest.approx(a / b, rel=1e-14) == pytest.approx(9.75 / 24.75)
    assert _plain_kappa(omega, 2, 3) == pytest.approx(a / b, rel=1e-14)


@pytest.mark.parametrize("d,L", [(1, 9), (2, 7), (3, 5), (4, 3)])
def test_agrees_with_plain_loop(d, L):
    rng = np.random.default_rng(d)
    u = 1.0 - rng.random((4, L**d))
    k = kappa_from_uniforms(u, site_weights(d, L))
    for m in range(4):
        omega = (u[m] ** 0.2).reshape((L,) * d)
        assert k[m] == pytest.approx(_plain_kappa(omega, d, L), rel=1e-12)


def test_lattice_kappa_draws_what_it_says():
    # lattice_kappa = kappa_from_uniforms on the generator's (1 - u) values, realization by realization
    d, L, n = 2, 5, 7
    ref_u = 1.0 - generator(np.random.SeedSequence(9)).random((n, L**d))
    k = lattice_kappa(d, L, n, generator(np.random.SeedSequence(9)))
    assert np.array_equal(k, kappa_from_uniforms(ref_u, site_weights(d, L)))


def test_omega_distribution_ks():
    # the omega that lattice_kappa uses: omega = (1 - rng.random())^(1/5), against CDF omega^5
    u = 1.0 - generator(np.random.SeedSequence(3)).random(200_000)
    omega = u**0.2
    assert stats.kstest(omega, lambda x: np.clip(x, 0, 1) ** 5).pvalue > 1e-3
    assert stats.kstest(omega, "uniform").pvalue < 1e-10  # the test has power
    assert u.min() > 0 and u.max() <= 1


@pytest.mark.parametrize("d,L", [(1, 3), (1, 101), (2, 11), (5, 3), (6, 3)])
def test_range_and_any_dimension(d, L):
    k = lattice_kappa(d, L, 500, generator(np.random.SeedSequence(d)))
    assert k.dtype == np.float64 and np.all(k > 0) and np.all(k <= 1)


def test_generator_stream_does_not_depend_on_chunking():
    # the premise of chunk independence: m-row draws in sequence = one big draw, bitwise
    nsites, n = 27, 10
    big = generator(np.random.SeedSequence(4)).random((n, nsites))
    rng = generator(np.random.SeedSequence(4))
    parts = [rng.random((m, nsites)) for m in (3, 1, 4, 2)]
    assert np.array_equal(np.concatenate(parts), big)
    buf = np.empty((3, nsites))
    rng = generator(np.random.SeedSequence(4))
    rows = []
    for k0 in range(0, n, 3):
        t = buf[: min(3, n - k0)]
        rng.random(out=t)
        rows.append(t.copy())
    assert np.array_equal(np.concatenate(rows), big)


@pytest.mark.parametrize("make", [generator, np.random.default_rng])
def test_independent_of_chunk(make):
    ks = [lattice_kappa(3, 7, 40, make(np.random.SeedSequence(5)), chunk=c) for c in (None, 1, 3, 7, 40, 10**6)]
    assert all(np.array_equal(ks[0], k) for k in ks[1:])
    # and the generator ends in the same state: exactly n * L^d draws were consumed
    r1, r2 = make(np.random.SeedSequence(5)), make(np.random.SeedSequence(5))
    lattice_kappa(3, 7, 40, r1, chunk=3)
    r2.random(40 * 7**3)
    assert r1.random() == r2.random()


def test_deterministic_for_same_seed():
    k1 = lattice_kappa(2, 9, 300, generator(np.random.SeedSequence(11, spawn_key=(4,))))
    k2 = lattice_kappa(2, 9, 300, generator(np.random.SeedSequence(11, spawn_key=(4,))))
    k3 = lattice_kappa(2, 9, 300, generator(np.random.SeedSequence(11, spawn_key=(5,))))
    assert np.array_equal(k1, k2) and not np.array_equal(k1, k3)


def test_batch_size_changes_draws_not_the_distribution():
    # one task of 2m realizations vs two tasks (different seeds) of m each: same law of kappa
    one = lattice_kappa(2, 11, 6000, generator(np.random.SeedSequence(1)))
    two = np.concatenate([lattice_kappa(2, 11, 3000, generator(np.random.SeedSequence(1, spawn_key=(s,)))) for s in (0, 1)])
    assert stats.ks_2samp(one, two).pvalue > 1e-3


def test_input_not_modified_and_empty():
    u = 1.0 - np.random.default_rng(2).random((3, 9))
    u0 = u.copy()
    kappa_from_uniforms(u, site_weights(2, 3))
    assert np.array_equal(u, u0)
    assert lattice_kappa(2, 5, 0, generator(np.random.SeedSequence(0))).shape == (0,)


def test_bad_arguments():
    for d, L in [(2, 4), (2, 1), (0, 3)]:
        with pytest.raises(ValueError):
            site_weights(d, L)
    with pytest.raises(ValueError):
        lattice_kappa(2, 5, 10, generator(np.random.SeedSequence(0)), chunk=0)
    with pytest.raises(ValueError):
        kappa_from_uniforms(np.ones((2, 8)), site_weights(2, 3))
