"""Tests of hpcglass.harmonic: Hessian, zero modes, kappa, SLEPc modes, Lemaitre-Maloney G.

Pair terms come from tests/ipl_reference.py (an independent numpy IPL implementation), so these
tests do not depend on hpcglass.models / hpcglass.kernels.
"""

import numpy as np
import pytest

import ipl_reference as R
from hpcglass.harmonic import (HarmonicSystem, dipole_stiffness, elastic_moduli, find_rattlers,
                               hessian_csr, hessian_petsc, kappa_pairs, lowest_modes,
                               participation_ratio, restrict_pairs, select_pairs, shear_xi,
                               unit_dipoles)
from hpcglass.harmonic.elasticity import born_shear, dilation_xi
from hpcglass.pairs import PairTerms

RHO = {2: 0.86, 3: 0.82, 4: 0.76}


# ------------------------------------------------------------------------------ helpers


def jittered_lattice(n, d, rho, seed=0, jitter=0.08):
    rng = np.random.default_rng(seed)
    N = n ** d
    L = (N / rho) ** (1.0 / d)
    a = L / n
    grid = np.stack(np.meshgrid(*[np.arange(n)] * d, indexing="ij"), -1).reshape(-1, d) * a
    pos = grid + jitter * a * rng.standard_normal(grid.shape)
    species = np.zeros(N, dtype=np.int64)
    species[rng.permutation(N)[: N // 2]] = 1
    return pos, species, L


_GLASS_CACHE = {}


def glass(d):
    """Small L-BFGS-minimized IPL glass (cached per dimension)."""
    if d not in _GLASS_CACHE:
        N = {2: 64, 3: 64, 4: 256}[d]
        _GLASS_CACHE[d] = R.random_glass(N, d, RHO[d], seed=1)
    return _GLASS_CACHE[d]


def fixture_2d(fixtures_dir):
    pos, species, L = R.read_edan_2d(fixtures_dir / "ipl2D_snap.dat")
    return pos, species, L


def dense_kappa(M, D):
    """kappa from a dense pseudo-inverse (reference)."""
    Mp = np.linalg.pinv(M, rcond=1e-10, hermitian=True)
    Z = Mp @ D
    return np.einsum("ik,ik->k", D, Z) / np.einsum("ik,ik->k", Z, Z), Z


# ------------------------------------------------------------------------------ Hessian


@pytest.mark.parametrize("d,n", [(2, 5), (3, 4), (4, 4)])
def test_hessian_matches_finite_differences(d, n):
    pos, species, L = jittered_lattice(n, d, RHO[d], seed=d)
    N = pos.shape[0]
    pt = R.pair_terms(pos, species, L)
    H = hessian_csr(pt, N).toarray()
    assert np.abs(H - H.T).max() == 0.0
    rng = np.random.default_rng(0)
    cols = rng.choice(N * d, size=min(N * d, 24), replace=False)
    h = 1e-6
    for a in cols:
        p1 = pos.ravel().copy(); p1[a] += h
        p2 = pos.ravel().copy(); p2[a] -= h
        _, f1 = R.energy_forces(p1.reshape(N, d), species, L)
        _, f2 = R.energy_forces(p2.reshape(N, d), species, L)
        fd = -(f1 - f2).ravel() / (2 * h)
        scale = np.abs(H[:, a]).max()
        assert np.abs(fd - H[:, a]).max() < 1e-6 * scale
    # block rows sum to zero (translation invariance)
    assert np.abs(H.reshape(N * d, N, d).sum(axis=1)).max() < 1e-10 * np.abs(H).max()


def test_petsc_mat_equals_csr():
    pos, species, L = glass(3)
    pt = R.pair_terms(pos, species, L)
    A = hessian_csr(pt, pos.shape[0])
    for mat_type in ("aij", "baij"):
        M = hessian_petsc(pt, pos.shape[0], mat_type=mat_type)
        try:
            assert M.isSymmetric(1e-14)
            assert M.getBlockSize() == 3
            dense = M.convert("dense").getDenseArray()
            assert np.abs(dense - A.toarray()).max() == 0.0
        finally:
            M.destroy()


def test_exactly_d_zero_modes_on_fixture(fixtures_dir):
    pos, species, L = fixture_2d(fixtures_dir)
    pt = R.pair_terms(pos, species, L)
    assert not find_rattlers(pt, len(pos)).any()
    w = np.linalg.eigvalsh(hessian_csr(pt, len(pos)).toarray())
    assert np.sum(np.abs(w) < 1e-8) == 2
    assert w[2] > 0.5


def test_rattler_detection_is_iterative():
    # particles 0-4 all connected (4 contacts each); 5 touches 0, 1, 6; 6 touches only 5.
    i, j = [], []
    for a in range(5):
        for b in range(a + 1, 5):
            i.append(a); j.append(b)
    i += [0, 1, 5]; j += [5, 5, 6]
    P = len(i)
    rng = np.random.default_rng(0)
    rij = rng.standard_normal((P, 2))
    r = np.linalg.norm(rij, axis=1)
    pt = PairTerms(np.array(i), np.array(j), rij, r, -np.ones(P), np.ones(P))
    rat = find_rattlers(pt, 7)
    assert rat.tolist() == [False] * 5 + [True, True]
    res = restrict_pairs(pt, 7, rat)
    assert res.n_rattlers == 2 and len(res.pairs) == 10 and res.active.tolist() == [0, 1, 2, 3, 4]


def test_rattlers_removed_from_system():
    """A particle with a single contact is removed; kappa on the rest equals the dense result."""
    pos, species, L = glass(3)
    pt = R.pair_terms(pos, species, L)
    N = pos.shape[0]
    # append particle N with a single contact (with particle 0): pair terms are plain data
    r0 = 1.2
    _, dp, d2p = R.phi_x(np.array([r0]))
    pt2 = PairTerms(i=np.append(pt.i, 0), j=np.append(pt.j, N),
                    rij=np.vstack([pt.rij, [[r0, 0.0, 0.0]]]), r=np.append(pt.r, r0),
                    dphi=np.append(pt.dphi, dp), d2phi=np.append(pt.d2phi, d2p))
    rat = find_rattlers(pt2, N + 1)
    assert rat[N] and rat.sum() >= 1
    with HarmonicSystem(pt2, N + 1, L ** 3) as s:
        assert s.n_rattlers == rat.sum()
        which = select_pairs(pt2, "all", exclude=rat[pt2.i] | rat[pt2.j])
        res = dipole_stiffness(s, which[:20], n_fields=1)
        assert res.z[0, N].tolist() == [0.0, 0.0, 0.0]
        D = unit_dipoles(s.restriction.pairs, s.n_active,
                         np.searchsorted(s.restriction.pair_index, which[:20]))
        kd, _ = dense_kappa(s.M_csr.toarray(), D)
        np.testing.assert_allclose(res.kappa, kd, rtol=1e-8)


# ------------------------------------------------------------------------------ kappa


@pytest.mark.parametrize("d", [2, 3, 4])
def test_kappa_matches_dense_pseudoinverse(d):
    pos, species, L = glass(d)
    N = pos.shape[0]
    pt = R.pair_terms(pos, species, L)
    with HarmonicSystem(pt, N, L ** d) as s:
        which = select_pairs(pt, "random", n=40, rng=7)
        res = dipole_stiffness(s, which, block=16)
        D = unit_dipoles(s.restriction.pairs, s.n_active,
                         np.searchsorted(s.restriction.pair_index, which))
        kd, Zd = dense_kappa(s.M_csr.toarray(), D)
        np.testing.assert_allclose(res.kappa, kd, rtol=1e-8)
        # the solve returns the pseudo-inverse response itself (pinning + mean removal)
        Z = s.solve(D)
        np.testing.assert_allclose(Z, Zd, rtol=0, atol=1e-8 * np.abs(Zd).max())
        # scale and sign invariance
        Zs = s.solve(-3.7 * D)
        ks = np.einsum("ik,ik->k", -3.7 * D, Zs) / np.einsum("ik,ik->k", Zs, Zs)
        np.testing.assert_allclose(ks, res.kappa, rtol=1e-10)
        phys = D * pt.dphi[which][None, :]  # Eq. 1 dipole phi'(r)(n, -n)
        Zp = s.solve(phys)
        kp = np.einsum("ik,ik->k", phys, Zp) / np.einsum("ik,ik->k", Zp, Zp)
        np.testing.assert_allclose(kp, res.kappa, rtol=1e-10)
        # the stored response fields (Fig. 1b) are those pseudo-inverse responses, per particle
        assert s.n_active == N
        fields = dipole_stiffness(s, which, block=16, n_fields=2).z
        np.testing.assert_allclose(fields, Zd[:, :2].T.reshape(2, N, d), rtol=0, atol=1e-8 * np.abs(Zd).max())


def test_kappa_invariant_under_scale_and_sign():
    pos, species, L = glass(2)
    pt = R.pair_terms(pos, species, L)
    N = pos.shape[0]
    with HarmonicSystem(pt, N, L ** 2) as s:
        which = np.arange(10)
        D = unit_dipoles(s.restriction.pairs, N, which)
        k0 = dipole_stiffness(s, which).kappa
        for c in (-1.0, 1e-3, 250.0):
            Z = s.solve(c * D)
            k = np.einsum("ik,ik->k", c * D, Z) / np.einsum("ik,ik->k", Z, Z)
            np.testing.assert_allclose(k, k0, rtol=1e-10)


def test_pinning_equals_nullspace_and_pseudoinverse():
    pos, species, L = glass(3)
    N = pos.shape[0]
    pt = R.pair_terms(pos, species, L)
    which = select_pairs(pt, "random", n=15, rng=3)
    with HarmonicSystem(pt, N, L ** 3, method="direct") as s1:
        k1 = dipole_stiffness(s1, which).kappa
        e1 = elastic_moduli(s1)
        Mp = np.linalg.pinv(s1.M_csr.toarray(), rcond=1e-10, hermitian=True)
    with HarmonicSystem(pt, N, L ** 3, method="iterative", prefix="ittest_") as s2:
        k2 = dipole_stiffness(s2, which).kappa
        e2 = elastic_moduli(s2)
    np.testing.assert_allclose(k1, k2, rtol=1e-8)
    np.testing.assert_allclose(e1.G, e2.G, rtol=1e-8)
    Xi = shear_xi(pt, N)
    np.testing.assert_allclose(e1.nonaffine, Xi @ Mp @ Xi / L ** 3, rtol=1e-8)


def test_solver_options_prefix_selects_factor_package():
    from hpcglass.petsc_setup import petsc

    pos, species, L = glass(2)
    pt = R.pair_terms(pos, species, L)
    N = pos.shape[0]
    opts = petsc().Options()
    opts.setValue("-cholmodtest_pc_factor_mat_solver_type", "cholmod")
    try:
        with HarmonicSystem(pt, N, L ** 2, prefix="cholmodtest_") as s:
            k1 = dipole_stiffness(s, np.arange(8)).kappa
            assert s.factor_info()["solver_type"] == "cholmod"
    finally:
        opts.delValue("-cholmodtest_pc_factor_mat_solver_type")
    with HarmonicSystem(pt, N, L ** 2, mat_type="baij") as s:
        k2 = dipole_stiffness(s, np.arange(8)).kappa
        assert s.factor_info()["solver_type"] == "mumps"
    np.testing.assert_allclose(k1, k2, rtol=1e-9)


# ------------------------------------------------------------------------------ modes


@pytest.mark.parametrize("d", [2, 3])
def test_slepc_modes_match_eigh(d):
    pos, species, L = glass(d)
    N = pos.shape[0]
    pt = R.pair_terms(pos, species, L)
    m = lowest_modes(pt, N, k=6, vectors=True)
    w, v = np.linalg.eigh(hessian_csr(pt, N).toarray())
    w_nz = w[d:d + 6]
    np.testing.assert_allclose(m.eigenvalues, w_nz, rtol=1e-8)
    np.testing.assert_allclose(m.omega, np.sqrt(w_nz), rtol=1e-8)
    e_ref = participation_ratio(v[:, d:d + 6].T.reshape(6, N, d))
    np.testing.assert_allclose(m.participation, e_ref, rtol=1e-6)
    # eigenvectors (Fig. 1a): unit norm, M v = lambda v, orthogonal to translations
    assert np.allclose(np.linalg.norm(m.vectors.reshape(6, -1), axis=1), 1.0)
    V = m.vectors.reshape(6, -1).T
    H = hessian_csr(pt, N).toarray()
    np.testing.assert_allclose(H @ V, V * m.eigenvalues, rtol=0, atol=1e-7 * w[-1])
    assert np.abs(m.vectors.sum(axis=1)).max() < 1e-8


def test_participation_ratio_limits():
    N, d = 50, 3
    ext = np.ones((N, d))
    loc = np.zeros((N, d)); loc[3, 0] = 1.0
    np.testing.assert_allclose(participation_ratio(ext), 1.0)
    np.testing.assert_allclose(participation_ratio(loc), 1.0 / N)


# ------------------------------------------------------------------------------ elasticity


def _sheared_energy(pt, species_pair_lam, gamma, a=0, b=1):
    rij = pt.rij.copy()
    rij[:, a] += gamma * rij[:, b]
    r = np.linalg.norm(rij, axis=1)
    p, _, _ = R.phi_x(r / species_pair_lam)
    return p.sum()


def test_born_and_xi_by_finite_differences():
    pos, species, L = glass(3)
    N = pos.shape[0]
    pt = R.pair_terms(pos, species, L)
    lam = R.LAMBDA[species[pt.i], species[pt.j]]
    h = 1e-4
    U0 = _sheared_energy(pt, lam, 0.0)
    fd = (_sheared_energy(pt, lam, h) + _sheared_energy(pt, lam, -h) - 2 * U0) / h ** 2
    np.testing.assert_allclose(born_shear(pt), fd, rtol=1e-6)

    # Xi_i = d/dgamma (dU/dx_i) with the affine shear applied to the pair vectors
    def grad(gamma):
        rij = pt.rij.copy(); rij[:, 0] += gamma * rij[:, 1]
        r = np.linalg.norm(rij, axis=1)
        _, dp, _ = R.phi_x(r / lam)
        g = (dp / lam / r)[:, None] * rij
        G = np.zeros((N, 3)); np.add.at(G, pt.i, g); np.add.at(G, pt.j, -g)
        return G.ravel()

    xi_fd = (grad(h) - grad(-h)) / (2 * h)
    xi = shear_xi(pt, N)
    np.testing.assert_allclose(xi, xi_fd, atol=1e-6 * np.abs(xi).max())
    # dilation: U((1+eps) r) second derivative = sum phi'' r^2
    def U_eps(eps):
        p, _, _ = R.phi_x(pt.r * (1 + eps) / lam)
        return p.sum()
    fd_b = (U_eps(h) + U_eps(-h) - 2 * U_eps(0)) / h ** 2
    np.testing.assert_allclose(np.sum(pt.d2phi * pt.r ** 2), fd_b, rtol=1e-6)
    def grad_eps(eps):
        rij = pt.rij * (1 + eps); r = pt.r * (1 + eps)
        _, dp, _ = R.phi_x(r / lam)
        g = (dp / lam / r)[:, None] * rij
        G = np.zeros((N, 3)); np.add.at(G, pt.i, g); np.add.at(G, pt.j, -g)
        return G.ravel()
    xb = dilation_xi(pt, N)
    np.testing.assert_allclose(xb, (grad_eps(h) - grad_eps(-h)) / (2 * h), atol=1e-6 * np.abs(xb).max())


def test_triangular_crystal_G_equals_born():
    nx, ny, a = 8, 8, 1.1
    Lx, Ly = nx * a, ny * a * np.sqrt(3) / 2
    pos = np.array([[(ix + 0.5 * (iy % 2)) * a, iy * a * np.sqrt(3) / 2]
                    for iy in range(ny) for ix in range(nx)])
    species = np.zeros(len(pos), dtype=np.int64)
    pt = R.pair_terms(pos, species, np.array([Lx, Ly]))
    N, V = len(pos), Lx * Ly
    _, f = R.energy_forces(pos, species, np.array([Lx, Ly]))
    assert np.abs(f).max() < 1e-12
    assert np.abs(shear_xi(pt, N)).max() < 1e-12
    with HarmonicSystem(pt, N, V) as s:
        e = elastic_moduli(s)
    assert abs(e.nonaffine) < 1e-20
    np.testing.assert_allclose(e.G, e.born, rtol=1e-14)
    assert e.born > 0


# ------------------------------------------------------------------------------ fixture


def test_fixture_2d_reference_numbers(fixtures_dir):
    pos, species, L = fixture_2d(fixtures_dir)
    N = pos.shape[0]
    pt = R.pair_terms(pos, species, L)
    assert (N, len(pt)) == (400, 1301)
    with HarmonicSystem(pt, N, L ** 2) as s:
        assert s.n_rattlers == 0
        e = elastic_moduli(s)
        which = select_pairs(pt, "threshold", fmax=1e-3)
        k = dipole_stiffness(s, which)
    assert round(e.born, 6) == 42.782808
    assert round(e.nonaffine, 6) == 26.617625
    assert round(e.G, 4) == 16.1652
    assert round(e.pressure, 6) == 19.428477
    assert which.size == 49
    assert round(k.kappa.mean(), 2) == 14.25
    assert round(float(np.median(k.kappa)), 2) == 14.81
    assert np.all(k.f < 1e-3)
    m = lowest_modes(pt, N, k=4)
    np.testing.assert_array_equal(np.round(m.eigenvalues, 4), [0.5502, 1.2289, 1.4701, 1.9377])


def test_fixture_2d_kappa_pairs_convenience(fixtures_dir):
    pos, species, L = fixture_2d(fixtures_dir)
    pt = R.pair_terms(pos, species, L)
    r1 = kappa_pairs(pt, 400, L ** 2, mode="random", n=50, rng=11)
    r2 = kappa_pairs(pt, 400, L ** 2, mode="random", n=50, rng=11, block=7)
    np.testing.assert_array_equal(r1.pair_index, r2.pair_index)
    np.testing.assert_allclose(r1.kappa, r2.kappa, rtol=1e-12)
    assert r1.kappa.size == 50 and np.all(r1.kappa > 0)


# ------------------------------------------------------------------------------ MPI

_MPI_SCRIPT = r"""
import sys
sys.path.insert(0, {tests!r}); sys.path.insert(0, {root!r})
import numpy as np, ipl_reference as R
from hpcglass.harmonic import HarmonicSystem, elastic_moduli, dipole_stiffness, select_pairs, lowest_modes
from hpcglass.petsc_setup import petsc
PETSc = petsc()
pos, s, L = R.read_edan_2d({fixture!r}); pt = R.pair_terms(pos, s, L)
for method in ("direct", "iterative"):
    with HarmonicSystem(pt, 400, L ** 2, comm=PETSc.COMM_WORLD, method=method) as sy:
        e = elastic_moduli(sy); k = dipole_stiffness(sy, select_pairs(pt, "threshold"))
        rows = PETSc.COMM_WORLD.tompi4py().gather((method, repr(e.G), repr(k.kappa.mean())))
        if rows is not None:
            for row in rows:
                print("RESULT", *row, flush=True)
m = lowest_modes(pt, 400, k=4, comm=PETSc.COMM_WORLD)
if PETSc.COMM_WORLD.getRank() == 0:
    print("MODES", *np.round(m.eigenvalues, 4), flush=True)
"""


@pytest.mark.mpi
def test_two_ranks_share_one_sample(fixtures_dir, tmp_path):
    import shutil
    import subprocess
    import sys

    from mpi_helpers import ROOT, mpi_env

    mpirun = shutil.which("mpirun")
    if mpirun is None:
        pytest.skip("mpirun not found")
    script = tmp_path / "two_ranks.py"
    script.write_text(_MPI_SCRIPT.format(tests=str(ROOT / "tests"), root=str(ROOT),
                                         fixture=str(fixtures_dir / "ipl2D_snap.dat")))
    out = subprocess.run([mpirun, "-n", "2", "--oversubscribe", sys.executable, str(script)],
                         capture_output=True, text=True, timeout=120, env=mpi_env())
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("RESULT")]
    assert len(rows) == 4
    for _, method, G, kmean in rows:
        assert abs(float(G) - 16.165183) < 1e-5, method
        assert round(float(kmean), 2) == 14.25, method
    modes = [line for line in out.stdout.splitlines() if line.startswith("MODES")]
    assert modes and modes[0].split()[1:] == ["0.5502", "1.2289", "1.4701", "1.9377"]
