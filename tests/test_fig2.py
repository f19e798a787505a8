"""Fig. 2 of the paper, qualitatively: kappa grows with the pair force f for strongly pressed
pairs and does not depend on f below f ~ 1e-3 (the reason for the paper's f < 1e-3 filter)."""

import numpy as np
import pytest

from hpcglass.harmonic import HarmonicSystem, dipole_stiffness, rattler_pairs, select_pairs
from hpcglass.kernels.forces import VerletList, pair_terms
from hpcglass.models import make_model
from hpcglass.sampling.minimize import fire


@pytest.mark.slow
def test_kappa_against_pair_force_poly_2d():
    m = make_model("poly", 2, 1000, rng=np.random.default_rng(1))
    x = fire(np.random.default_rng(2).random((m.N, 2)) * m.L, m.L, VerletList(m).force, ftol=1e-10).x
    pt = pair_terms(x, m)
    with HarmonicSystem(pt, m.N, m.volume) as hs:
        r = dipole_stiffness(hs, select_pairs(pt, "all", exclude=rattler_pairs(hs)))

    def median(lo, hi):
        sel = (r.f >= lo) & (r.f < hi)
        assert sel.sum() >= 50, (lo, hi, sel.sum())
        return np.median(r.kappa[sel])

    weak1, weak2 = median(0.0, 1e-4), median(1e-4, 1e-3)
    pressed1, pressed2 = median(1.0, 10.0), median(10.0, 100.0)
    assert 1 / 1.5 < weak1 / weak2 < 1.5  # flat below 1e-3
    assert pressed2 > 1.5 * pressed1 > 1.5 * max(weak1, weak2)  # grows with f for pressed pairs
