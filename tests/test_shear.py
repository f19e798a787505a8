"""The Lemaitre-Maloney shear modulus against quasistatic shear: affine strain with Lees-Edwards
images plus re-minimisation (docs/harmonic.md)."""

import dataclasses

import numpy as np
import pytest

from edan import read_edan
from hpcglass.harmonic import HarmonicSystem, elastic_moduli
from hpcglass.kernels.forces import VerletList, energy_forces, pair_terms
from lees_edwards import lees_edwards_wrap, sheared_energy_forces
from hpcglass.models import make_model
from hpcglass.sampling.minimize import fire


def relaxed(x0, m, gamma):
    """Energy and sigma_xy after the affine map x += gamma y and re-minimisation at tilt gamma."""
    x = x0.copy()
    x[:, 0] += gamma * x[:, 1]
    res = fire(x, m.L, lambda y: sheared_energy_forces(y, m, gamma)[:2], ftol=1e-10,
               wrap=lambda y: lees_edwards_wrap(y, m.L, gamma))
    U, _, sxy = sheared_energy_forces(res.x, m, gamma)
    return U, sxy, sheared_energy_forces(x, m, gamma)[0]


def check(x, m, gamma=1e-4):
    with HarmonicSystem(pair_terms(x, m), m.N, m.volume) as hs:
        el = elastic_moduli(hs)
    U0, F0, s0 = sheared_energy_forces(x, m, 0.0)
    assert U0 == pytest.approx(energy_forces(x, m)[0], rel=1e-13)
    (Up, sp, Uap), (Um, sm, Uam) = relaxed(x, m, gamma), relaxed(x, m, -gamma)
    V = m.volume
    G_energy = (Up + Um - 2 * U0) / (V * gamma**2)
    G_stress = (sp - sm) / (2 * gamma)
    born_fd = (Uap + Uam - 2 * U0) / (V * gamma**2)
    assert born_fd == pytest.approx(el.born, rel=1e-5)  # no relaxation: the Born term
    assert G_energy == pytest.approx(el.G, rel=1e-2)
    assert G_stress == pytest.approx(el.G, rel=1e-2)
    return el.G, G_energy, G_stress


def test_fixture_2d(fixtures_dir):
    c = read_edan(str(fixtures_dir / "ipl2D_snap.dat"), 2)
    m = dataclasses.replace(make_model("ipl", 2, 400), species=c.species, L=c.L)
    G, Ge, Gs = check(c.x, m)
    assert G == pytest.approx(16.165183, abs=1e-5) and Ge == pytest.approx(16.1650, abs=2e-4)


@pytest.mark.parametrize("name,d,N", [("ipl", 3, 250), ("kablj", 3, 250), ("poly", 2, 200)])
def test_quenched_samples(name, d, N):
    m = make_model(name, d, N, rng=np.random.default_rng(1))
    x = fire(np.random.default_rng(2).random((N, d)) * m.L, m.L, VerletList(m).force, ftol=1e-11).x
    check(x, m)
