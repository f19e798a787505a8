"""Small, independent numpy implementation of the IPL model (docs/models.md) for tests.

Not part of the package: it exists so that the harmonic layer can be tested before (and
independently of) ``hpcglass.models`` / ``hpcglass.kernels``.

phi(r) = x^-10 + sum_{l=0..3} c_{2l} x^{2l},  x = r / lambda_ij < x_c = 1.48,
lambda_SS, lambda_SL, lambda_LL = 1.0, 1.18, 1.40 (species 0 = small, 1 = large).
"""

from __future__ import annotations


import numpy as np
from scipy.optimize import minimize
from scipy.spatial import cKDTree

from hpcglass.pairs import PairTerms

XC = 1.48
NEXP = 10
Q = 3
LAMBDA = np.array([[1.0, 1.18], [1.18, 1.40]])


def _dfact(n: int) -> int:
    return 1 if n <= 0 else n * _dfact(n - 2)


def coefficients(xc: float = XC, n: int = NEXP, q: int = Q) -> np.ndarray:
    """Closed-form smoothing coefficients c_0, c_2, ..., c_2q (spec section 1)."""
    c = []
    for l in range(q + 1):
        c.append((-1) ** (l + 1) / (_dfact(2 * q - 2 * l) * _dfact(2 * l))
                 * _dfact(n + 2 * q) / (_dfact(n - 2) * (n + 2 * l)) * xc ** (-(n + 2 * l)))
    return np.array(c)


C = coefficients()


def phi_x(x):
    """phi, dphi/dx, d2phi/dx2 of the reduced potential (energy units), x = r/lambda < x_c."""
    x = np.asarray(x, dtype=float)
    p = x ** -NEXP
    dp = -NEXP * x ** (-NEXP - 1)
    d2p = NEXP * (NEXP + 1) * x ** (-NEXP - 2)
    for l, cl in enumerate(C):
        k = 2 * l
        p = p + cl * x ** k
        if k >= 1:
            dp = dp + cl * k * x ** (k - 1)
        if k >= 2:
            d2p = d2p + cl * k * (k - 1) * x ** (k - 2)
    return p, dp, d2p


def read_edan_2d(path):
    """Read an Edan-format 2D file -> (pos (N,2), species (N,), L)."""
    with open(path) as fh:
        L = float(fh.readline().split()[0])
    data = np.loadtxt(path, skiprows=1)
    return data[:, :2] * L, data[:, -1].astype(np.int64), L


def lam_matrix(species_i, species_j):
    return LAMBDA[species_i, species_j]


def pair_terms(pos, species, box, lam=None):
    """PairTerms of all interacting pairs (r < x_c lambda_ij) under the minimum image.

    ``box`` is a scalar side L or a per-dimension array of sides; ``lam`` optionally a per-pair
    size function (defaults to the IPL binary table).
    """
    pos = np.asarray(pos, dtype=float)
    N, d = pos.shape
    boxv = np.broadcast_to(np.asarray(box, dtype=float), (d,)).copy()
    wrapped = np.mod(pos, boxv)
    tree = cKDTree(wrapped, boxsize=boxv)
    pr = tree.query_pairs(XC * LAMBDA.max() * (1 + 1e-12), output_type="ndarray")
    pr = np.sort(pr, axis=1)
    pr = pr[np.lexsort((pr[:, 1], pr[:, 0]))]
    i, j = pr[:, 0].astype(np.int64), pr[:, 1].astype(np.int64)
    rij = pos[i] - pos[j]
    rij -= boxv * np.round(rij / boxv)
    r = np.linalg.norm(rij, axis=1)
    lamij = LAMBDA[species[i], species[j]] if lam is None else lam
    keep = r < XC * lamij
    i, j, rij, r, lamij = i[keep], j[keep], rij[keep], r[keep], lamij[keep]
    _, dp, d2p = phi_x(r / lamij)
    return PairTerms(i=i, j=j, rij=rij, r=r, dphi=dp / lamij, d2phi=d2p / lamij ** 2)


def energy_forces(pos, species, box):
    """Total energy and forces (N, d) = -dU/dx."""
    pos = np.asarray(pos, dtype=float)
    pt = pair_terms(pos, species, box)
    lamij = LAMBDA[species[pt.i], species[pt.j]]
    p, _, _ = phi_x(pt.r / lamij)
    g = (pt.dphi / pt.r)[:, None] * pt.rij  # dU/dx_i contribution
    grad = np.zeros_like(pos)
    np.add.at(grad, pt.i, g)
    np.add.at(grad, pt.j, -g)
    return p.sum(), -grad


def minimize_config(pos, species, box, gtol=1e-12, maxiter=20000):
    """L-BFGS inherent state (small N only)."""
    shape = np.shape(pos)

    def fun(x):
        e, f = energy_forces(x.reshape(shape), species, box)
        return e, -f.ravel()

    res = minimize(fun, np.asarray(pos, float).ravel(), jac=True, method="L-BFGS-B",
                   options=dict(gtol=gtol, ftol=1e-16, maxiter=maxiter, maxcor=30))
    return res.x.reshape(shape)


def random_glass(N, d, rho, seed=0, minimize_it=True):
    """Random 50:50 IPL configuration in a hypercube of side L=(N/rho)^(1/d), optionally minimized."""
    rng = np.random.default_rng(seed)
    L = (N / rho) ** (1.0 / d)
    pos = rng.random((N, d)) * L
    species = np.zeros(N, dtype=np.int64)
    species[N // 2:] = 1
    rng.shuffle(species)
    if minimize_it:
        pos = minimize_config(pos, species, L)
    return pos, species, L


def dense_hessian_fd(pos, species, box, h=1e-6):
    """Central finite-difference Hessian of U from the analytic forces, (N d, N d)."""
    pos = np.asarray(pos, dtype=float)
    N, d = pos.shape
    H = np.zeros((N * d, N * d))
    for a in range(N * d):
        p1 = pos.copy().ravel()
        p2 = pos.copy().ravel()
        p1[a] += h
        p2[a] -= h
        _, f1 = energy_forces(p1.reshape(N, d), species, box)
        _, f2 = energy_forces(p2.reshape(N, d), species, box)
        H[:, a] = -(f1 - f2).ravel() / (2 * h)
    return H
