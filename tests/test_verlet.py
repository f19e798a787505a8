"""The Verlet list of MD and FIRE in boxes where its radius is clipped below L/2."""

import numpy as np
import pytest

from hpcglass.kernels.cells import verlet_skin
from hpcglass.kernels.forces import VerletList, energy_forces
from hpcglass.models import make_model


def test_clipped_list_sees_a_pair_that_comes_inside_its_cutoff():
    """IPL 4D N = 256: L/2 = 2.142 leaves 0.07 of the 0.3 skin.  Particle 1 starts just beyond the
    list radius of particle 0 and walks 0.1 (< skin/2 = 0.15) straight at it, into its cutoff."""
    m = make_model("ipl", 4, 256)
    big = int(np.argmax(np.diag(m.lam)))
    m.species[:2] = big
    cut = m.xc * m.lam[big, big]
    x = np.random.default_rng(5).random((m.N, 4)) * m.L
    u = np.array([1.0, 1.0, 0.0, 0.0]) / np.sqrt(2.0)
    x[0] = 0.5 * m.L
    vl = VerletList(m)
    for r in np.linspace(0.5 * m.L * np.sqrt(2.0) * 0.72, cut - 0.03, 12):
        x[1] = x[0] + r * u
        U, F = vl.force(x)
        U_ref, F_ref, _ = energy_forces(x, m)
        assert U == pytest.approx(U_ref, rel=1e-12), r
        assert np.allclose(F, F_ref, rtol=1e-10, atol=1e-10), r


def test_verlet_skin_is_the_room_below_half_the_box():
    assert verlet_skin(10.0, 2.0, 0.3) == 0.3
    assert verlet_skin(4.284, 2.072, 0.3) == pytest.approx(0.4999 * 4.284 - 2.072)
    with pytest.raises(ValueError, match="no Verlet skin"):
        verlet_skin(4.0, 2.0, 0.3)
