"""Glass formers and kernels: finite-difference forces, smooth cutoffs, published constants,
the public IPL samples, an independent KABLJ evaluation, neighbour search, FIRE."""

import dataclasses
import itertools

import numpy as np
import pytest

from edan import read_edan
from hpcglass.kernels.cells import candidate_pairs
from hpcglass.kernels.forces import VerletList, energy_forces, pair_terms
from hpcglass.kernels.pair import pair_phi
from hpcglass.models import make_model, poly_sizes
from hpcglass.potentials import padded, solve_smoothing
from hpcglass.potentials.inverse_power import IPL10
from hpcglass.potentials.lennard_jones import LJ, power_derivatives
from hpcglass.potentials.inverse_power import smoothing as ipl_coefficients


def ipl_derivatives(x, kmax):
    """d^k/dx^k x^-10, k = 0..kmax, by the power rule (independent of the numba base)."""
    return np.array([np.prod(np.arange(-10, -10 - k, -1)) * x ** (-10 - k) for k in range(kmax + 1)])
from hpcglass.sampling.minimize import MinimizationError, fire

CASES = [("ipl", 2), ("ipl", 3), ("ipl", 4), ("poly", 2), ("poly", 3), ("kablj", 3)]


def jittered(name, d, N, seed=0, amp=0.15):
    """A model at its density on a jittered simple-cubic lattice (no overlaps, many pairs)."""
    rng = np.random.default_rng(seed)
    m = make_model(name, d, N, rng=rng)
    n = round(N ** (1 / d))
    g = (np.arange(n) + 0.5) * m.L / n
    x = np.stack(np.meshgrid(*([g] * d), indexing="ij"), -1).reshape(-1, d)
    return m, x + amp * rng.normal(size=x.shape)


def test_constants_match_the_spec():
    assert np.allclose(ipl_coefficients(1.48, 3), [-1.1106337663, 1.2676152372, -0.4960406073, 0.0660511826], atol=1e-10)
    assert np.allclose(ipl_coefficients(1.5, 3), [-0.9711256753, 1.0790285281, -0.4110584869, 0.0532853594], atol=1e-10)
    assert np.allclose(ipl_coefficients(1.4, 3), [-1.9360103299, 2.4694009310, -1.0799129436, 0.1607013309], atol=1e-10)
    assert np.allclose(LJ.coefficients(2.5, 2), [0.16196095, -0.03880620, 0.00248050], atol=1e-8)
    # closed form == general linear solve for the IPL base
    assert np.allclose(solve_smoothing(ipl_derivatives(1.48, 3), 1.48, 3), ipl_coefficients(1.48, 3), rtol=1e-12)
    # the numba base's derivatives are those of the power rule, for both potentials
    for x in (0.9, 1.2, 1.48):
        assert np.allclose(IPL10.derivatives(x), ipl_derivatives(x, 3), rtol=1e-13)
        assert np.allclose(LJ.derivatives(x), power_derivatives(x, 3), rtol=1e-12)
    assert np.allclose(pair_phi(1.0, 1.0, 1.0, IPL10.base, 1.48, *padded(ipl_coefficients(1.48, 3))),
                       [0.7269920463, -9.0526248588, 108.5642787], rtol=1e-9)


@pytest.mark.parametrize("pot,xc,q", [(IPL10, 1.48, 3), (IPL10, 1.4, 3), (LJ, 2.5, 2)])
def test_potential_and_derivatives_vanish_at_cutoff(pot, xc, q):
    base, coeffs = pot.base, pot.coefficients(xc, q)
    c = padded(coeffs)
    lam = 1.3
    for r in (xc * lam * (1 - 1e-7), xc * lam):
        phi, d1, d2 = pair_phi(r, lam, 1.0, base, xc, *c)
        assert abs(phi) < 1e-12 and abs(d1) < 1e-9 and abs(d2) < 1e-5
    # the q-th derivative of base + polynomial is zero at xc too (phi''' for q = 3)
    poly = [c * np.prod(np.arange(2 * l, 2 * l - q, -1)) * xc ** (2 * l - q) for l, c in enumerate(coeffs)]
    exact = ipl_derivatives(xc, q) if pot is IPL10 else power_derivatives(xc, q)
    assert abs(exact[q] + sum(poly)) < 1e-10
    # phi' and phi'' are the derivatives of phi
    r, h = 1.1 * lam, 1e-5
    p = [pair_phi(r + k * h, lam, 1.0, base, xc, *c) for k in (-1, 0, 1)]
    assert (p[2][0] - p[0][0]) / (2 * h) == pytest.approx(p[1][1], rel=1e-7)
    assert (p[2][1] - p[0][1]) / (2 * h) == pytest.approx(p[1][2], rel=1e-7)


@pytest.mark.parametrize("name,d", CASES)
def test_forces_are_minus_the_energy_gradient(name, d):
    N = {2: 64, 3: 343, 4: 256}[d]
    m, x = jittered(name, d, N)
    U, F, _ = energy_forces(x, m)
    rng = np.random.default_rng(1)
    h = 1e-6
    for i, k in zip(rng.integers(0, N, 8), rng.integers(0, d, 8)):
        xp, xm = x.copy(), x.copy()
        xp[i, k] += h
        xm[i, k] -= h
        fd = -(energy_forces(xp, m)[0] - energy_forces(xm, m)[0]) / (2 * h)
        assert fd == pytest.approx(F[i, k], rel=1e-6, abs=1e-7 * np.abs(F).max())
    assert np.allclose(F.sum(axis=0), 0.0, atol=1e-9 * np.abs(F).max())


@pytest.mark.parametrize("name,d", CASES)
def test_cell_list_equals_brute_force(name, d):
    N = {2: 400, 3: 512, 4: 1296}[d]
    m, x = jittered(name, d, N, amp=0.4)
    rc = m.max_cutoff
    pi, pj = candidate_pairs(x, m.L, rc)
    dx = x[:, None, :] - x[None, :, :]
    dx -= m.L * np.rint(dx / m.L)
    r = np.sqrt((dx**2).sum(-1))
    bi, bj = np.nonzero(np.triu(r < rc, 1))
    assert set(zip(pi, pj)) == set(zip(bi, bj)) and len(pi) == len(bi)


def test_kablj_against_a_numpy_double_loop():
    m, x = jittered("kablj", 3, 343, seed=4)
    U, F, p = energy_forces(x, m)
    sig, eps, c = m.lam, m.eps, m.coeffs
    Uref, Fref = 0.0, np.zeros_like(x)
    for i, j in itertools.combinations(range(m.N), 2):
        d = x[i] - x[j]
        d -= m.L * np.rint(d / m.L)
        r = np.sqrt(d @ d)
        s, e = sig[m.species[i], m.species[j]], eps[m.species[i], m.species[j]]
        if r / s >= 2.5:
            continue
        xx = r / s
        Uref += e * (4 * (xx**-12 - xx**-6) + c[0] + c[1] * xx**2 + c[2] * xx**4)
        dphi = e / s * (4 * (-12 * xx**-13 + 6 * xx**-7) + 2 * c[1] * xx + 4 * c[2] * xx**3)
        Fref[i] -= dphi * d / r
        Fref[j] += dphi * d / r
    assert U == pytest.approx(Uref, rel=1e-10)
    assert np.allclose(F, Fref, rtol=1e-10, atol=1e-10 * np.abs(Fref).max())
    assert sorted(np.bincount(m.species)) == [69, 274]  # 80:20 of 343 -> 274 A, 69 B


def test_public_ipl_samples(fixtures_dir):
    c = read_edan(str(fixtures_dir / "ipl2D_snap.dat"), 2)
    m = dataclasses.replace(make_model("ipl", 2, 400), species=c.species, L=c.L)
    U, F, p = energy_forces(c.x, m)
    assert np.abs(F).max() < 1e-8
    assert U / 400 == pytest.approx(3.8856026, abs=1e-7) and p == pytest.approx(19.428477, abs=1e-6)  # digits given
    assert len(pair_terms(c.x, m)) == 1301
    c3 = read_edan(str(fixtures_dir / "ipl3D_snap_with_velocities.dat"), 3, velocities=True)
    m3 = dataclasses.replace(make_model("ipl", 3, 2000), species=c3.species, L=c3.L)
    assert energy_forces(c3.x, m3)[0] / 2000 == pytest.approx(6.3877263, abs=1e-7)
    assert energy_forces(c3.x, m3)[0] == pytest.approx(c3.header[3], rel=1e-8)


def test_pair_terms_are_the_interacting_pairs():
    m, x = jittered("poly", 2, 100, seed=2)
    pt = pair_terms(x, m)
    assert np.all(pt.i < pt.j) and np.all(pt.dphi != 0)
    li, lj = m.sizes[pt.i], m.sizes[pt.j]
    lam = 0.5 * (li + lj) * (1 - 0.1 * np.abs(li - lj))
    assert np.all(pt.r < m.xc * lam)
    assert np.allclose(np.linalg.norm(pt.rij, axis=1), pt.r)


def test_poly_sizes():
    rng = np.random.default_rng(0)
    s = poly_sizes(2000, 3, rng)
    assert s.min() >= 1.0 and s.max() <= 2.22
    assert abs(np.mean(s**3) / 3.06112 - 1) < 1e-3
    q = poly_sizes(100000, 2, rng, "quantile")
    assert np.mean(q) == pytest.approx(1.37888, rel=1e-4) and np.mean(q**2) == pytest.approx(2.00104, rel=1e-4)


def test_fire_reaches_tolerance_and_fails_loudly(fixtures_dir):
    c = read_edan(str(fixtures_dir / "ipl2D_snap.dat"), 2)
    m = dataclasses.replace(make_model("ipl", 2, 400), species=c.species, L=c.L)
    x = c.x + 0.03 * np.random.default_rng(0).normal(size=c.x.shape)
    vl = VerletList(m)
    res = fire(x, m.L, vl.force, ftol=1e-10)
    assert res.max_force < 1e-10 and np.abs(energy_forces(res.x, m)[1]).max() < 1e-10
    assert vl.builds < 10
    with pytest.raises(MinimizationError, match="not converged"):
        fire(x, m.L, VerletList(m).force, ftol=1e-10, max_steps=50)


@pytest.mark.parametrize("name,d", [("ipl", 4), ("kablj", 3)])
def test_fire_from_random_positions(name, d):
    m = make_model(name, d, 256 if d == 4 else 250)
    x = np.random.default_rng(5).random((m.N, d)) * m.L
    res = fire(x, m.L, VerletList(m).force, ftol=1e-10)
    assert np.abs(energy_forces(res.x, m)[1]).max() < 1e-10


@pytest.mark.parametrize("name,d", CASES)
def test_hessian_is_the_derivative_of_the_forces(name, d):
    from hpcglass.harmonic import hessian_csr

    N = {2: 64, 3: 343, 4: 256}[d]
    m, x = jittered(name, d, N, seed=3)
    H = hessian_csr(pair_terms(x, m), N).toarray()
    assert np.array_equal(H, H.T)
    rng, h = np.random.default_rng(4), 1e-6
    for i, k in zip(rng.integers(0, N, 4), rng.integers(0, d, 4)):
        xp, xm = x.copy(), x.copy()
        xp[i, k] += h
        xm[i, k] -= h
        col = -(energy_forces(xp, m)[1] - energy_forces(xm, m)[1]).ravel() / (2 * h)
        assert np.allclose(H[:, d * i + k], col, rtol=1e-5, atol=1e-6 * np.abs(H).max())


@pytest.mark.parametrize("name,d", [("ipl", 2), ("poly", 3), ("kablj", 3)])
def test_minimised_sample_has_exactly_d_zero_modes(name, d):
    from hpcglass.harmonic import find_rattlers, hessian_csr

    m = make_model(name, d, 100 if d == 2 else 250, rng=np.random.default_rng(6))
    x = fire(np.random.default_rng(7).random((m.N, d)) * m.L, m.L, VerletList(m).force, ftol=1e-11).x
    pt = pair_terms(x, m)
    if find_rattlers(pt, m.N).any():
        pytest.skip("this sample has rattlers")
    ev = np.linalg.eigvalsh(hessian_csr(pt, m.N).toarray())
    assert np.sum(np.abs(ev) < 1e-8) == d and ev[d] > 1e-4


@pytest.mark.parametrize("name,d", CASES)
def test_verlet_list_forces_equal_the_reference_path(name, d):
    """The MD/FIRE path (half Verlet rows, r^2-form kernel) against energy_forces (cell-list
    candidates, pair_phi), also after moves that do and do not trigger a rebuild."""
    m, x = jittered(name, d, 1000 if name == "kablj" else {2: 196, 3: 216, 4: 256}[d], seed=4)
    vl = VerletList(m)
    rng = np.random.default_rng(1)
    for step in (0.0, 0.02, 0.1):
        x = x + step * rng.normal(size=x.shape) / np.sqrt(d)
        U, F = vl.force(x)
        U0, F0, _ = energy_forces(x, m)
        assert U == pytest.approx(U0, rel=1e-10)
        assert np.abs(F - F0).max() < 1e-10 * np.abs(F0).max()
    assert vl.builds >= 2


def test_edan_reader_keeps_poly_sizes(tmp_path):
    """The last column of a POLY file holds sizes: they come back as float64, not cut to int."""
    p = tmp_path / "poly.dat"
    p.write_text("10.0\n0.1 0.2 1.2345\n0.5 0.6 0.7321\n0.9 0.3 1.0\n")
    c = read_edan(str(p), 2)
    assert c.sizes is not None and np.array_equal(c.sizes, [1.2345, 0.7321, 1.0])
    assert np.array_equal(c.species, [0, 0, 0]) and np.allclose(c.x[0], [1.0, 2.0])
    assert np.array_equal(read_edan(str(p), 2, last="size").sizes, c.sizes)
    with pytest.raises(ValueError, match="non-integer values"):
        read_edan(str(p), 2, last="species")
    q = tmp_path / "ipl.dat"
    q.write_text("10.0\n0.1 0.2 0\n0.5 0.6 1\n")
    c = read_edan(str(q), 2)
    assert c.sizes is None and c.species.dtype == np.int64 and list(c.species) == [0, 1]
