"""phi(r), phi'(r), phi''(r) of every model from one definition (physics_spec.md sections 1-3)."""

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


@numba.njit(cache=True, nogil=True)
def pair_phi(r, lam, eps, base, xc, coeffs):
    """(phi, phi', phi'') at distance r for a pair of size lam and strength eps.

    base 0: x^-10; base 1: 4(x^-12 - x^-6); plus sum_l coeffs[l] x^(2l); zero for x >= xc.
    Derivatives are with respect to r.
    """
    x = r / lam
    if x >= xc:
        return 0.0, 0.0, 0.0
    ix = 1.0 / x
    if base == 0:
        x10 = ix**10
        f0 = x10
        f1 = -10.0 * x10 * ix
        f2 = 110.0 * x10 * ix * ix
    else:
        x6 = ix**6
        x12 = x6 * x6
        f0 = 4.0 * (x12 - x6)
        f1 = 4.0 * (-12.0 * x12 + 6.0 * x6) * ix
        f2 = 4.0 * (156.0 * x12 - 42.0 * x6) * ix * ix
    # polynomial sum_l c_l x^(2l) and its derivatives by Horner in x^2
    x2 = x * x
    p0 = 0.0
    p1 = 0.0
    p2 = 0.0
    for l in range(coeffs.shape[0] - 1, -1, -1):
        c = coeffs[l]
        p0 = p0 * x2 + c
        if l >= 1:
            p1 = p1 * x2 + 2.0 * l * c
        if l >= 1:
            p2 = p2 * x2 + 2.0 * l * (2.0 * l - 1.0) * c
    # p1 holds sum 2l c x^(2l-2) -> times x; p2 holds sum 2l(2l-1) c x^(2l-2)
    p1 *= x
    return eps * (f0 + p0), eps * (f1 + p1) / lam, eps * (f2 + p2) / (lam * lam)


@numba.njit(cache=True, nogil=True, inline="always")
def ipl10_energy_x2(x2, c0, c1, c2, c3):
    """phi / eps for base 0 (IPL, POLY) at x^2 = (r / lam)^2 inside the cutoff: x^-10 + c0 + c1 x^2
    + c2 x^4 + c3 x^6, ``pair_phi`` written in x^2 with no loop and no root (the swap-MC hot path);
    c0..c3 are the smoothing coefficients zero-padded to four."""
    ix2 = 1.0 / x2
    ix4 = ix2 * ix2
    return ix4 * ix4 * ix2 + c0 + x2 * (c1 + x2 * (c2 + x2 * c3))


@numba.njit(cache=True, nogil=True, inline="always")
def pair_phi_force_r2(r2, lam, eps, base, c0, c1, c2, c3):
    """(phi, -phi'(r)/r) at squared distance r2 inside the cutoff: ``pair_phi`` written in
    x^2 = (r/lam)^2, so the MD hot loop needs no square root, no phi'' and no coefficient loop.
    c0..c3 are the smoothing coefficients zero-padded to four (q <= 3 for every model)."""
    il2 = 1.0 / (lam * lam)
    x2 = r2 * il2
    ix2 = 1.0 / x2
    if base == 0:
        x10 = ix2 * ix2
        x10 = x10 * x10 * ix2
        f0 = x10
        g = -10.0 * x10 * ix2
    else:
        x6 = ix2 * ix2 * ix2
        x12 = x6 * x6
        f0 = 4.0 * (x12 - x6)
        g = (-48.0 * x12 + 24.0 * x6) * ix2
    p0 = c0 + x2 * (c1 + x2 * (c2 + x2 * c3))
    p1 = 2.0 * c1 + x2 * (4.0 * c2 + x2 * (6.0 * c3))
    return eps * (f0 + p0), -eps * il2 * (g + p1)
