"""phi(r), phi'(r), phi''(r) of a model's pair potential, for every kernel.

Every function takes the potential's numba ``base`` (``hpcglass.potentials``) as an argument:
numba compiles one specialisation per potential, so a kernel has no potential of its own and
no code to fall back on.  Coefficients c0..c3 are the smoothing polynomial zero-padded to four
(``hpcglass.potentials.padded``).  Units: those of the model (epsilon, lambda).
"""

import numba


@numba.njit(cache=True, nogil=True, inline="always")
def poly_lambda(li, lj, nonadd):
    """POLY pair size from the sizes li, lj: (li + lj)/2 (1 - nonadd |li - lj|)."""
    return 0.5 * (li + lj) * (1.0 - nonadd * abs(li - lj))


@numba.njit(cache=True, nogil=True, inline="always")
def pair_params(i, j, species, sizes, lam_tab, eps_tab, poly, nonadd):
    """(lambda_ij, eps_ij) of the pair (i, j)."""
    if poly:
        return poly_lambda(sizes[i], sizes[j], nonadd), 1.0
    return lam_tab[species[i], species[j]], eps_tab[species[i], species[j]]


@numba.njit(cache=True, nogil=True, inline="always")
def reduced_energy_x2(base, x2, c0, c1, c2, c3):
    """phi / eps at x^2 = (r / lam)^2 inside the cutoff: f(x) + c0 + c1 x^2 + c2 x^4 + c3 x^6,
    with no root and no loop (the swap-MC hot path)."""
    return base(x2)[0] + c0 + x2 * (c1 + x2 * (c2 + x2 * c3))


@numba.njit(cache=True, nogil=True, inline="always")
def pair_phi_force_r2(r2, lam, eps, base, c0, c1, c2, c3):
    """(phi, -phi'(r)/r) at squared distance r2 inside the cutoff: the MD and FIRE hot loop,
    written in x^2 = (r/lam)^2 so it needs no square root and no phi''."""
    il2 = 1.0 / (lam * lam)
    x2 = r2 * il2
    f0, g, _, _ = base(x2)
    p0 = c0 + x2 * (c1 + x2 * (c2 + x2 * c3))
    p1 = 2.0 * c1 + x2 * (4.0 * c2 + x2 * (6.0 * c3))
    return eps * (f0 + p0), -eps * il2 * (g + p1)


@numba.njit(cache=True, nogil=True, inline="always")
def pair_phi(r, lam, eps, base, xc, c0, c1, c2, c3):
    """(phi, phi', phi'') at distance r for a pair of size lam and strength eps; zero for
    r / lam >= xc.  Derivatives are with respect to r."""
    x = r / lam
    if x >= xc:
        return 0.0, 0.0, 0.0
    x2 = x * x
    f0, g, f2, _ = base(x2)
    p0 = c0 + x2 * (c1 + x2 * (c2 + x2 * c3))
    p1 = 2.0 * c1 + x2 * (4.0 * c2 + x2 * (6.0 * c3))      # (d/dx poly) / x
    p2 = 2.0 * c1 + x2 * (12.0 * c2 + x2 * (30.0 * c3))    # d^2/dx^2 poly
    return eps * (f0 + p0), eps * (g + p1) * x / lam, eps * (f2 + p2) / (lam * lam)
