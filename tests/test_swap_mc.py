"""Swap Monte Carlo for POLY: exact Boltzmann weights of size permutations, displacement MC
against MD in the same canonical ensemble, bookkeeping and reproducibility."""

import itertools

import numpy as np
import pytest
from scipy import stats

from hpcglass.kernels.forces import VerletList, energy_forces
from hpcglass.kernels.pair import pair_phi, reduced_energy_x2
from hpcglass.potentials.inverse_power import IPL10
from hpcglass.models import make_model
from hpcglass.sampling.md import maxwell_velocities, run_nvt
from hpcglass.sampling.minimize import fire
from hpcglass.sampling.swap_mc import swap_mc
from hpcglass.sampling.swap_rows import KEY_BUCKETS, ROUND, size_bounds, sorted_rows
from hpcglass.sampling.swap_trials import attempts


def ipl10_energy_x2(x2, *c):
    return reduced_energy_x2(IPL10.base, x2, *c)


def test_ipl10_energy_x2_is_phi():
    m = make_model("poly", 2, 8, rng=np.random.default_rng(0))
    c = np.zeros(4)
    c[:len(m.coeffs)] = m.coeffs
    for lam in (1.0, 1.3, 2.1):
        for r in np.linspace(0.8, m.xc * lam * (1 - 1e-9), 200):
            assert ipl10_energy_x2((r / lam) ** 2, *c) == pytest.approx(pair_phi(r, lam, 1.0, m.base, m.xc, *c)[0],
                                                                         rel=1e-12, abs=1e-15)


def _triangle():
    """Three POLY particles at fixed positions with three distinct sizes (2D, big box)."""
    m = make_model("poly", 2, 3, density=3 / 12.0**2, rng=np.random.default_rng(0))
    m = m.with_sizes(np.array([1.0, 1.5, 2.1]))
    x = np.array([[5.0, 5.0], [6.6, 5.0], [5.9, 6.5]])
    return m, x


def test_swaps_sample_the_boltzmann_weights_of_all_size_permutations():
    """Exact enumeration: with swap moves only, each of the 3! assignments of the sizes must be
    visited with probability exp(-U/T)/Z."""
    m, x = _triangle()
    T = 0.8
    perms = list(itertools.permutations(range(3)))
    U = np.array([energy_forces(x, m.with_sizes(m.sizes[list(p)]))[0] for p in perms])
    assert np.ptp(U) > T  # the weights differ enough to be tested
    w = np.exp(-(U - U.min()) / T)
    exact = w / w.sum()
    rng = np.random.default_rng(5)
    sizes, counts = m.sizes.copy(), np.zeros(len(perms))
    index = {tuple(m.sizes[list(p)]): k for k, p in enumerate(perms)}
    for _ in range(30000):
        res = swap_mc(x, m.with_sizes(sizes), T, 1, rng, p_swap=1.0, tune=0)
        sizes = res.sizes
        counts[index[tuple(sizes)]] += 1
    chi2 = stats.chisquare(counts, exact * counts.sum())
    assert chi2.pvalue > 1e-4, (counts / counts.sum(), exact)


def _poly_liquid(N=64, d=2, seed=3):
    rng = np.random.default_rng(seed)
    m = make_model("poly", d, N, rng=rng)
    x = fire(rng.random((N, d)) * m.L, m.L, VerletList(m).force, ftol=1.0).x
    return m, x, rng


def test_displacement_mc_and_md_give_the_same_mean_energy():
    """With swaps off, MC samples the same configurational distribution as NVT MD."""
    m, x, rng = _poly_liquid()
    T = 2.0
    mc = swap_mc(x, m, T, 6000, rng, p_swap=0.0, tune=200)
    e_mc = mc.energy[1000:]
    assert 0.3 < mc.acc_displacement < 0.5
    vl = VerletList(m)
    e_md, xm, v = [], x, maxwell_velocities(m.N, 2, T, rng)
    for _ in range(100):
        res = run_nvt(xm, v, m.L, vl.force, 0.0025, 400, T, rng)
        xm, v = res.x, res.v
        e_md.append(res.U_mean)
    e_md = np.array(e_md[10:])
    # errors from blocks longer than the correlation times
    err_mc = np.std(e_mc.reshape(25, -1).mean(1)) / 5
    err_md = np.std(e_md.reshape(9, -1).mean(1)) / 3
    assert abs(e_mc.mean() - e_md.mean()) < 4 * np.hypot(err_mc, err_md), (e_mc.mean(), e_md.mean())


@pytest.mark.parametrize("d", [2, 3])
def test_sizes_are_conserved_energy_is_tracked_and_runs_are_reproducible(d):
    m, x, _ = _poly_liquid(N=200, d=d)
    # a thin skin, so that the running energy crosses several rebuilds
    a = swap_mc(x, m, 0.5, 60, np.random.default_rng(9), skin=0.4)
    b = swap_mc(x, m, 0.5, 60, np.random.default_rng(9), skin=0.4)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.sizes, b.sizes)
    assert np.array_equal(np.sort(a.sizes), np.sort(m.sizes))
    assert not np.array_equal(a.sizes, m.sizes) and a.acc_swap > 0
    # the running sum of dU over 12000 attempts stays on the exact energy
    exact = energy_forces(a.x, m.with_sizes(a.sizes))[0] / m.N
    assert a.energy[-1] == pytest.approx(exact, rel=1e-10)
    assert a.rebuilds > 1 and np.all((a.x >= 0) & (a.x < m.L))


@pytest.mark.parametrize("d", [2, 3])
def test_chain_does_not_depend_on_skin_or_grown_list(d):
    """The size-aware rows are exact: with a thin skin and a two-slot grown list (rebuilt often),
    with a thick skin and a long grown list (pairs found through stale keys and the grown list),
    and with the skin steered during the run, the same random numbers give the same chain.  A
    missed neighbour changes some dU and the chains part.  High T and many swaps, so sizes move a
    lot between rebuilds; the thin-skin run has no size margin, so the row prefixes have no
    slack beyond the drift bounds and the rounding to ROUND entries.  The drift bounds alone
    are tested on exact prefixes below."""
    m, x, _ = _poly_liquid(N=200, d=d)
    a = swap_mc(x, m, 2.0, 40, np.random.default_rng(4), p_swap=0.5, skin=0.25, max_grown=2, tune=0,
                adapt_skin=False, size_margin=0.0)
    b = swap_mc(x, m, 2.0, 40, np.random.default_rng(4), p_swap=0.5, skin=1.5, max_grown=400, tune=0,
                delta=a.delta, adapt_skin=False)
    c = swap_mc(x, m, 2.0, 40, np.random.default_rng(4), p_swap=0.5, skin=0.25, tune=0, delta=a.delta)
    assert a.rebuilds > 5 * b.rebuilds and a.acc_swap > 0.1
    assert a.skin == 0.25 and c.skin > 1.5 * a.skin  # steered towards fewer builds
    for r in (b, c):
        assert np.array_equal(a.sizes, r.sizes)
        np.testing.assert_allclose(a.x, r.x, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.energy, r.energy, rtol=1e-12)
    # accepted and rejected moves alike: a pair missed at the edge of the cutoff is small
    # (phi ~ (x_c - x)^4 there) but shows in the running energy
    exact = energy_forces(a.x, m.with_sizes(a.sizes))[0] / m.N
    assert a.energy[-1] == pytest.approx(exact, rel=1e-12, abs=0)


@pytest.mark.parametrize("d, N", [(3, 200), (2, 2000), (3, 2000)])
def test_rows_hold_every_pair_within_reach(d, N):
    """The rows against a brute-force list, for an all-pairs box (3D N = 200) and cell searches
    (N = 2000): each row holds exactly the k != i with key = r_ik - x_c b_k / 2 < key_max, and
    the prefix up to ends[i, b] holds every entry below the upper edge of bucket b with fewer
    than ROUND entries more, its length a multiple of ROUND or the whole row."""
    m = make_model("poly", d, N, rng=np.random.default_rng(3))
    x = np.zeros((N, 3))
    x[:, :d] = np.random.default_rng(4).random((N, d)) * m.L
    skin, bound = 0.7, size_bounds(m.sizes)
    start, end, nbr, ends, k_lo, width = sorted_rows(x, d, bound, m.L, m.xc, skin, m.max_cutoff + skin)
    key_max = 0.5 * m.xc * bound.max() + skin
    assert k_lo == -0.5 * m.xc * bound.max() and width == pytest.approx((key_max - k_lo) / KEY_BUCKETS)
    ends = ends.astype(np.int64)
    assert np.all(np.diff(ends, axis=1) >= 0) and np.array_equal(ends[:, -1], end - start)
    assert np.all((ends % ROUND == 0) | (ends == (end - start)[:, None]))
    o = np.argsort(start)  # rows back to back, none overlapping
    assert start[o[0]] == 0 and np.array_equal(start[o[1:]], end[o[:-1]])
    dx = x[:, None, :d] - x[None, :, :d]
    dx -= m.L * np.round(dx / m.L)
    true_key = np.sqrt((dx**2).sum(-1)) - 0.5 * m.xc * bound[None, :]
    np.fill_diagonal(true_key, np.inf)
    for i in range(N):
        row = slice(start[i], end[i])
        assert np.array_equal(np.sort(nbr[row]), np.flatnonzero(true_key[i] < key_max))
        k = true_key[i, nbr[row]]
        for b in range(KEY_BUCKETS):
            upper = k_lo + (b + 1) * width
            assert np.all(k[ends[i, b]:] >= upper - 1e-12)
            assert ends[i, b] < np.count_nonzero(k < upper + 1e-12) + ROUND


def _exact_prefixes(rows, x, bound, m):
    """rows (``sorted_rows``) with each bucket end exact, not rounded up to ROUND entries: the
    rows of a few particles are otherwise read whole whatever the drift."""
    start, end, nbr, ends, k_lo, width = rows
    ends = np.zeros_like(ends)
    for i in range(len(start)):
        k = nbr[start[i]:end[i]].astype(np.int64)
        dx = x[i, :3] - x[k, :3]
        dx -= m.L * np.round(dx / m.L)
        key = np.linalg.norm(dx, axis=1) - 0.5 * m.xc * bound[k]
        bucket = np.clip(((key - k_lo) / width).astype(np.int64), 0, KEY_BUCKETS - 1)
        ends[i] = np.searchsorted(np.sort(bucket), np.arange(KEY_BUCKETS), side="right")
    return start, end, nbr, ends, k_lo, width


def _drifted_pair(draw):
    """One attempt ``draw`` (accepted whatever dU) on particles 0 and 1 of size 1, x_c + 0.3 apart
    at the build, since moved 0.2 and 0.15 towards each other, so that the pair now interacts;
    particle 2 (size 1.1) is far away.  Rows with exact prefixes.  Returns the stats."""
    m = make_model("poly", 3, 3, density=3 / 10.0**3, rng=np.random.default_rng(0))
    m = m.with_sizes(np.array([1.0, 1.0, 1.1]))
    x = np.array([[2.0, 5.0, 5.0, 1.0], [2.0 + m.xc + 0.3, 5.0, 5.0, 1.0], [7.0, 5.0, 5.0, 1.1]])  # last: sizes
    skin, bound = 0.5, size_bounds(m.sizes, 0.0)
    rows = _exact_prefixes(sorted_rows(x, 3, bound, m.L, m.xc, skin, m.max_cutoff + skin), x, bound, m)
    xref = x.copy()
    x[0, 0] += 0.2
    x[1, 0] -= 0.15
    c = np.zeros(4)
    c[:len(m.coeffs)] = m.coeffs
    stats = np.zeros(5)
    k, _ = attempts(m.base, x, 3, m.sizes.copy(), xref, bound, m.L, 1.0, 0.2, 0.2, np.array([0.2, 0.15]), np.array([0]),
                     np.array([0.2, 0.15, 0.0]), (*rows, 0.5 * m.xc, skin), np.empty(2, dtype=np.uint64), 0,
                     (m.nonadd, m.xc**2, *c), np.array([draw]), 0, stats)
    assert k == 1
    return m, c, stats


def test_a_step_back_towards_the_reference_keeps_the_old_neighbours():
    """A displacement trial must also reach the row entries its old position interacts with.
    The trial steps particle 0 back by 0.1, out of range of 1.  A prefix bounded by the new
    position alone (0.1 + 0.15 beyond x_c s / 2) stops short of 1's entry (0.3 beyond); the old
    position's (0.2 + 0.15) reaches it."""
    delta = 0.2
    m, c, stats = _drifted_pair([0.9, 0.1, 0.5, 0.0, 0.5 * (1 - 0.1 / delta), 0.5, 0.5])
    assert stats[1] == 1.0
    assert stats[4] == pytest.approx(-ipl10_energy_x2((m.xc - 0.05) ** 2, *c), rel=1e-12)


def test_a_swap_reaches_the_neighbours_its_particle_moved_towards():
    """A swap trial's prefix must include the particle's own displacement: swapping the sizes of
    0 and 2 changes the 0-1 term, which a prefix bounded by the others' displacements alone
    (0.15 beyond x_c 1.1 / 2) misses."""
    m, c, stats = _drifted_pair([0.1, 0.1, 0.75, 0.0, 0.5, 0.5, 0.5])
    assert stats[3] == 1.0
    lam = 0.5 * (1.0 + 1.1) * (1.0 - m.nonadd * 0.1)
    r2 = (m.xc - 0.05) ** 2
    assert stats[4] == pytest.approx(ipl10_energy_x2(r2 / lam**2, *c) - ipl10_energy_x2(r2, *c), rel=1e-12)


def test_swap_mc_refuses_other_models():
    m = make_model("ipl", 2, 16)
    with pytest.raises(ValueError, match="POLY"):
        swap_mc(np.zeros((16, 2)), m, 1.0, 1, np.random.default_rng(0))


def test_rows_of_more_than_65536_particles_use_int32_indices():
    """uint16 row indices stop at N = 65536: above it the rows hold int32 indices, and sampled
    rows (near both ends of the index range) hold exactly the pairs within reach."""
    d, N = 2, 70000
    m = make_model("poly", d, N, rng=np.random.default_rng(3))
    x = np.zeros((N, 3))
    x[:, :d] = np.random.default_rng(4).random((N, d)) * m.L
    skin, bound = 0.5, size_bounds(m.sizes)
    start, end, nbr, ends, k_lo, width = sorted_rows(x, d, bound, m.L, m.xc, skin, m.max_cutoff + skin)
    assert nbr.dtype == np.int32 and ends.dtype == np.int32
    key_max = 0.5 * m.xc * bound.max() + skin
    for i in [0, 1, 2, N - 3, N - 2, N - 1]:
        dx = x[i, :d] - x[:, :d]
        dx -= m.L * np.round(dx / m.L)
        true_key = np.sqrt((dx**2).sum(-1)) - 0.5 * m.xc * bound
        true_key[i] = np.inf
        assert np.array_equal(np.sort(nbr[start[i]:end[i]]), np.flatnonzero(true_key < key_max))
