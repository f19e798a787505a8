"""A potential added in this one file reaches every consumer (docs/extending.md).

The toy 8-4 potential f(x) = x^-8 - x^-4 (attractive tail, generic smoothing solve with q = 2) is
defined here and nowhere else; a binary and a polydisperse model use it.  Forces, Hessian,
Verlet-list MD forces, swap-MC energy bookkeeping, the LAMMPS table and the Lees-Edwards kernel
are checked against finite differences and an independent numpy evaluation of the formula.
"""

import numba
import numpy as np
import pytest

from hpcglass.harmonic import hessian_csr
from hpcglass.kernels.forces import VerletList, energy_forces, pair_terms
from hpcglass.lammps_io import write_lammps_table
from hpcglass.models.spec import ModelSpec, binary
from hpcglass.potentials import Potential
from hpcglass.sampling.swap_mc import swap_mc


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _toy_base(x2):
    ix2 = 1.0 / x2
    x4 = ix2 * ix2
    x8 = x4 * x4
    return x8 - x4, (-8.0 * x8 + 4.0 * x4) * ix2, (72.0 * x8 - 20.0 * x4) * ix2, \
        (-720.0 * x8 + 120.0 * x4) * ix2 * np.sqrt(ix2)


TOY = Potential("toy_8_4", _toy_base)
XC = 2.0


def _spec(polydisperse: bool) -> ModelSpec:
    if polydisperse:
        def composition(N, d, rng, method):
            return np.zeros(N, dtype=np.int64), rng.uniform(1.0, 1.3, N)
    else:
        def composition(N, d, rng, method):
            return binary(N, N // 2)
    return ModelSpec(name="toy", source="tests/test_toy_potential.py", dimensions=(2, 3), density={2: 0.8, 3: 0.8},
                     potential=TOY, xc={2: XC, 3: XC}, q=2, lam=np.array([[1.0, 1.1], [1.1, 1.2]]),
                     eps=np.array([[1.0, 0.7], [0.7, 0.5]]), species_names=("A", "B"), composition=composition,
                     polydisperse=polydisperse, nonadd=0.05 if polydisperse else 0.0, attractive=True)


def _phi_numpy(r, lam, eps, c):
    """Independent evaluation of the smoothed toy potential (numpy, no hpcglass kernel)."""
    x = r / lam
    val = x**-8 - x**-4 + sum(cl * x ** (2 * l) for l, cl in enumerate(c))
    return np.where(x < XC, eps * val, 0.0)


def _configuration(poly: bool, d: int, N: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    m = _spec(poly).instantiate(d, N, rng=rng)
    n = round(N ** (1 / d))
    g = (np.arange(n) + 0.5) * m.L / n
    x = np.stack(np.meshgrid(*([g] * d), indexing="ij"), -1).reshape(-1, d)
    return m, x + 0.12 * rng.normal(size=x.shape)


def _pair_lambda(m, i, j):
    if m.poly:
        si, sj = m.sizes[i], m.sizes[j]
        return 0.5 * (si + sj) * (1 - m.nonadd * abs(si - sj)), 1.0
    return m.lam[m.species[i], m.species[j]], m.eps[m.species[i], m.species[j]]


def _energy_numpy(m, x):
    dx = x[:, None, :] - x[None, :, :]
    dx -= m.L * np.rint(dx / m.L)
    r = np.sqrt((dx**2).sum(-1))
    iu, ju = np.triu_indices(m.N, 1)
    lam_eps = np.array([_pair_lambda(m, i, j) for i, j in zip(iu, ju)])
    return float(_phi_numpy(r[iu, ju], lam_eps[:, 0], lam_eps[:, 1], m.coeffs).sum())


def test_smoothing_makes_phi_and_two_derivatives_vanish():
    c = TOY.coefficients(XC, 2)
    h = 1e-4
    vals = [_phi_numpy(np.array(XC - k * h), 1.0, 1.0, c) for k in range(1, 4)]
    # phi(xc - h) ~ h^3 phi'''/6: a cubic zero
    assert abs(vals[0]) < 1e-10 and abs(vals[1] / vals[0] - 8.0) < 1e-2


@pytest.mark.parametrize("poly,d", [(False, 2), (False, 3), (True, 2), (True, 3)])
def test_energy_forces_hessian_and_verlet_list(poly, d):
    N = 64 if d == 2 else 125
    m, x = _configuration(poly, d, N)
    U, F, _ = energy_forces(x, m)
    assert U == pytest.approx(_energy_numpy(m, x), rel=1e-12)
    h = 1e-6
    rng = np.random.default_rng(1)
    for i, k in zip(rng.integers(0, N, 6), rng.integers(0, d, 6)):
        xp, xm = x.copy(), x.copy()
        xp[i, k] += h
        xm[i, k] -= h
        fd = -(_energy_numpy(m, xp) - _energy_numpy(m, xm)) / (2 * h)
        assert fd == pytest.approx(F[i, k], rel=1e-5, abs=1e-6 * np.abs(F).max())
        col = -(energy_forces(xp, m)[1] - energy_forces(xm, m)[1]).ravel() / (2 * h)
        H = hessian_csr(pair_terms(x, m), N).toarray()
        assert np.allclose(H[:, d * i + k], col, rtol=1e-5, atol=1e-6 * np.abs(H).max())
    Uv, Fv = VerletList(m).force(x)
    assert Uv == pytest.approx(U, rel=1e-12)
    np.testing.assert_allclose(Fv, F, rtol=0, atol=1e-11 * np.abs(F).max())


def test_swap_mc_energy_bookkeeping():
    m, x = _configuration(True, 2, 100, seed=2)
    res = swap_mc(x, m, 0.8, 20, np.random.default_rng(3))
    assert res.acc_swap > 0 and res.acc_displacement > 0
    final = energy_forces(res.x, m.with_sizes(res.sizes))[0]
    assert res.energy[-1] * m.N == pytest.approx(final, rel=1e-10)


def test_lammps_table_and_lees_edwards(tmp_path):
    from lees_edwards import sheared_energy_forces

    m, x = _configuration(False, 2, 64)
    path = tmp_path / "toy.table"
    write_lammps_table(str(path), m, 200)
    text = path.read_text().split("\nAB\n")[1].split("\n\n")[1].split("\n")
    row = np.array(text[50].split(), dtype=float)
    assert row[2] == pytest.approx(float(_phi_numpy(row[1], m.lam[0, 1], m.eps[0, 1], m.coeffs)), rel=1e-12, abs=1e-14)
    U0, F0, _ = sheared_energy_forces(x.copy(), m, 0.0)
    U, F, _ = energy_forces(x, m)
    assert U0 == pytest.approx(U, rel=1e-12)
    np.testing.assert_allclose(F0, F, rtol=0, atol=1e-11 * np.abs(F).max())
