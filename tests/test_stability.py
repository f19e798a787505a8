"""The glass task's stability record: the lowest eigenvalues it stores agree with dense linear
algebra, and a saddle (a minimum pushed along its softest mode) is recorded as unstable."""

from types import SimpleNamespace

import numpy as np

from hpcglass.harmonic.hessian import hessian_csr
from hpcglass.kernels.forces import VerletList, pair_terms
from hpcglass.models import make_model
from hpcglass.sampling.minimize import fire
from hpcglass.workflows import N_LOW_MODES, harmonic_stage

ENS = SimpleNamespace(modes=0, mode_vectors=0, pairs="random", n_pairs=50, f_max=1e-3, shear_modulus=True, fields=0)


def _minimum(N=64, seed=3):
    rng = np.random.default_rng(seed)
    model = make_model("ipl", 2, N, rng=rng)
    vl = VerletList(model)
    x = fire(rng.random((N, 2)) * model.L, model.L, vl.force, ftol=1e-11).x
    return model, x


def _dense_nonzero(pairs, N, d=2):
    """Eigenvalues and vectors of the dense Hessian without its d zero translation modes."""
    w, v = np.linalg.eigh(hessian_csr(pairs, N).toarray())
    T = np.zeros((N * d, d))
    for c in range(d):
        T[c::d, c] = 1.0 / np.sqrt(N)
    trans = np.linalg.norm(T.T @ v, axis=0) > 0.5
    return w[~trans], v[:, ~trans]


def test_stored_eigenvalues_match_dense_and_a_minimum_is_stable():
    model, x = _minimum()
    pairs = pair_terms(x, model)
    w, _ = _dense_nonzero(pairs, model.N)
    out = harmonic_stage(pairs, model.N, model.volume, ENS, np.random.default_rng(0))
    assert out["n_rattlers"] == 0  # so the dense spectrum is the system's
    np.testing.assert_allclose(out["lambda_low"], w[:N_LOW_MODES], rtol=1e-8)
    assert out["unstable"] == 0 and out["n_kappa_bad"] == 0 and np.all(out["kappa"] > 0)
    assert np.all((out["participation_low"] > 0) & (out["participation_low"] <= 1))


def test_a_saddle_is_recorded_as_unstable():
    model, x = _minimum()
    pairs = pair_terms(x, model)
    _, v = _dense_nonzero(pairs, model.N)
    psi = v[:, 0].reshape(model.N, 2)
    for amp in np.linspace(0.05, 1.5, 30):  # push along the softest mode until the curvature turns
        for sign in (1.0, -1.0):
            xs = (x + sign * amp * psi / np.abs(psi).max()) % model.L
            ps = pair_terms(xs, model)
            w, _ = _dense_nonzero(ps, model.N)
            if w[0] < -1e-3:
                break
        else:
            continue
        break
    assert w[0] < -1e-3, "no saddle found along the softest mode"
    out = harmonic_stage(ps, model.N, model.volume, ENS, np.random.default_rng(0))
    assert out["unstable"] >= 1
    np.testing.assert_allclose(out["lambda_low"][0], w[0], rtol=1e-7)
    assert np.isfinite(out["G"])  # still computed (LDL^T), with the flag beside it
