"""Athermal elastic moduli by the Lemaitre-Maloney decomposition (A. Lemaitre and C. Maloney, J. Stat. Phys. 123, 415 (2006); docs/harmonic.md).

Simple shear x -> x + gamma y (Lees-Edwards), any d, components x = 0, y = 1:

    Born      d2U/dgamma2 = sum_pairs [(phi'' - phi'/r)(x y / r)^2 + (phi'/r) y^2]
    Xi_i      = d2U/(dgamma dx_i) = sum_j K_ij (y_ij e_x)   (Xi_j gets -K_ij y_ij e_x)
    G         = [Born - Xi . M^+ . Xi] / V                  [energy / length^d]

Bulk modulus (uniform dilation x -> (1+eps) x, V = V0 (1+eps)^d):

    U''       = sum_pairs phi'' r^2 - Xi_b . M^+ . Xi_b,   Xi_b,i = sum_j K_ij r_ij
    B = -V dp/dV = [U'' + d(d-1) p V] / (d^2 V)

Stresses: sigma_ab = V^-1 sum_pairs phi' r_a r_b / r (negative for a repulsive packing);
pressure p = -sum_pairs phi' r / (d V).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpcglass.pairs import PairTerms

from .hessian import pair_stiffness
from .system import HarmonicSystem


@dataclass(frozen=True)
class ElasticResult:
    """Moduli and stresses of one configuration [energy / length^d].

    born        : Born term d2U/dgamma2 / V (includes sigma_yy)
    nonaffine   : Xi . M^+ . Xi / V
    G           : born - nonaffine
    sigma_xy, sigma_yy : stress components V^-1 sum phi' r_a r_b / r
    pressure    : -sum phi' r / (d V)
    born_bulk, nonaffine_bulk, B : bulk-modulus pieces (B as defined in the module docstring)
    n_rattlers  : rattlers removed
    """

    born: float
    nonaffine: float
    G: float
    sigma_xy: float
    sigma_yy: float
    pressure: float
    born_bulk: float
    nonaffine_bulk: float
    B: float
    n_rattlers: int


def born_shear(pairs: PairTerms, a: int = 0, b: int = 1) -> float:
    """d2U/dgamma2 for the shear x_a -> x_a + gamma x_b [energy]."""
    x, y, r = pairs.rij[:, a], pairs.rij[:, b], pairs.r
    first = pairs.dphi / r
    return float(np.sum((pairs.d2phi - first) * (x * y / r) ** 2 + first * y * y))


def shear_xi(pairs: PairTerms, N: int, a: int = 0, b: int = 1) -> np.ndarray:
    """Xi = d2U/(dgamma dx), float64 (N d,), for the shear x_a -> x_a + gamma x_b [energy/length]."""
    d = pairs.dim
    K = pair_stiffness(pairs)
    v = K[:, :, a] * pairs.rij[:, b][:, None]  # K (y e_x)
    Xi = np.zeros((N, d))
    np.add.at(Xi, pairs.i, v)
    np.add.at(Xi, pairs.j, -v)
    return Xi.ravel()


def dilation_xi(pairs: PairTerms, N: int) -> np.ndarray:
    """Xi_b = d2U/(deps dx), float64 (N d,), for uniform dilation x -> (1+eps) x."""
    d = pairs.dim
    v = (pairs.d2phi * pairs.r)[:, None] * (pairs.rij / pairs.r[:, None])  # K r_ij = phi'' r n
    Xi = np.zeros((N, d))
    np.add.at(Xi, pairs.i, v)
    np.add.at(Xi, pairs.j, -v)
    return Xi.ravel()


def stresses(pairs: PairTerms, V: float) -> dict:
    """sigma (d, d) = V^-1 sum phi' r_a r_b / r and the pressure -tr(sigma)/d."""
    w = pairs.dphi / pairs.r
    sigma = np.einsum("p,pa,pb->ab", w, pairs.rij, pairs.rij) / V
    return {"sigma": sigma, "pressure": float(-np.trace(sigma) / pairs.dim)}


def elastic_moduli(system: HarmonicSystem) -> ElasticResult:
    """Lemaitre-Maloney G (shear x -> x + gamma y) and B, with the system's factorization."""
    pairs = system.restriction.pairs
    n, d, V = system.n_active, system.d, system.V
    st = stresses(system.pairs_full, V)  # stresses from every pair, rattlers included
    born = born_shear(pairs) / V
    Xi = shear_xi(pairs, n)
    Xb = dilation_xi(pairs, n)
    Z = system.solve(np.column_stack([Xi, Xb]))
    nonaff = float(Xi @ Z[:, 0]) / V
    born_b = float(np.sum(pairs.d2phi * pairs.r ** 2)) / V
    nonaff_b = float(Xb @ Z[:, 1]) / V
    p = st["pressure"]
    B = (born_b - nonaff_b + d * (d - 1) * p) / d ** 2
    return ElasticResult(born=born, nonaffine=nonaff, G=born - nonaff, sigma_xy=float(st["sigma"][0, 1]),
                         sigma_yy=float(st["sigma"][1, 1]), pressure=p, born_bulk=born_b,
                         nonaffine_bulk=nonaff_b, B=B, n_rattlers=system.n_rattlers)


def shear_modulus(pairs: PairTerms, N: int, V: float, comm=None, prefix: str = "dipole_",
                  method: str = "direct") -> ElasticResult:
    """Convenience: build the system, compute the moduli, destroy the PETSc objects."""
    with HarmonicSystem(pairs, N, V, comm=comm, prefix=prefix, method=method) as system:
        return elastic_moduli(system)
