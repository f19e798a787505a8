"""Trial moves of swap Monte Carlo: the energy change of a size swap or a displacement from the
neighbour rows (``swap_rows``), and the Metropolis loop over a sweep's attempts.

Pairs of the reachable row prefix are evaluated without a branch and selected, in loops LLVM
vectorises (hence error_model="numpy", unsigned indices, scalar helper arguments); the reasons
and their measurements are in docs/models.md ("Swap Monte Carlo").
"""

from __future__ import annotations

import numba
import numpy as np

from ..kernels.pair import poly_lambda, reduced_energy_x2
from .swap_rows import PAD, r2_to, row_end, vector_to

# Random numbers per attempt: move kind, particle i, partner j (swap), acceptance, d displacement.
FIXED_DRAWS = 4


@numba.njit(cache=True, nogil=True, inline="always")
def _phi_cut(base, r2, l2, xc2, c0, c1, c2, c3):
    """phi at squared distance r2 and squared pair size l2, 0 beyond the cutoff (xc2 = x_c^2;
    c0..c3 the smoothing coefficients).  Both sides are evaluated and one is selected."""
    x2 = r2 / l2
    e = reduced_energy_x2(base, x2, c0, c1, c2, c3)
    return e if x2 < xc2 else 0.0




@numba.njit(cache=True, nogil=True, inline="always")
def _resize_energy(base, i, s_new, skip, x, sizes, L, start, nbr, ends, k_lo, width, half_xc, drift,
                   grown, n_grown, nonadd, xc2, c0, c1, c2, c3):
    """U(sizes[i] -> s_new) - U for particle i, over its neighbours but ``skip``.

    x (N, PAD + 1): positions and, in the last column, sizes with -1 for grown particles; sizes
    (N,): the sizes.  Rows (start, nbr, ends, k_lo, width: ``sorted_rows``),
    grown[:n_grown]: the structures of docs/models.md, "Swap Monte Carlo", half_xc = x_c / 2, drift: the bound
    on |d_i| + |d_k| for this trial.  The reachable row prefix, then the grown list.  Both loops
    write the pair term out: a shared njit helper for it vectorised worse.
    """
    inv_L = 1.0 / L
    s = sizes[i]
    p0, p1, p2 = x[i, 0], x[i, 1], x[i, 2]
    du = 0.0
    # unsigned indices: numba wraps negative signed ones, and then gathers nbr instead of loading it
    for m in range(np.uint64(start[i]), np.uint64(row_end(start, ends, i, half_xc * max(s, s_new) + drift,
                                                             k_lo, width))):
        k = nbr[m]
        r2 = r2_to(p0, p1, p2, x, k, L, inv_L)
        sk = x[k, PAD]
        lo = poly_lambda(s, sk, nonadd)
        ln = poly_lambda(s_new, sk, nonadd)
        v = _phi_cut(base, r2, ln * ln, xc2, c0, c1, c2, c3) - _phi_cut(base, r2, lo * lo, xc2, c0, c1, c2, c3)
        du += 0.0 if (sk < 0.0) | (k == skip) else v
    for g in range(np.uint64(n_grown)):
        k = grown[g]
        r2 = r2_to(p0, p1, p2, x, k, L, inv_L)
        lo = poly_lambda(s, sizes[k], nonadd)
        ln = poly_lambda(s_new, sizes[k], nonadd)
        v = _phi_cut(base, r2, ln * ln, xc2, c0, c1, c2, c3) - _phi_cut(base, r2, lo * lo, xc2, c0, c1, c2, c3)
        du += 0.0 if (k == i) | (k == skip) else v
    return du


@numba.njit(cache=True, nogil=True, inline="always")
def _move_energy(base, i, e0, e1, e2, x, sizes, L, start, nbr, ends, k_lo, width, half_xc, drift, grown, n_grown,
                 nonadd, xc2, c0, c1, c2, c3):
    """U(x[i] + e) - U(x[i]) for particle i moved by the step e = (e0, e1, e2); arguments as
    ``_resize_energy``.  The pair vector after the step is the minimum-image one before it plus
    e: a component it pushes past L/2 is one whose minimum image is longer than L/2 - |e| >
    cutoff (``swap_mc`` keeps L/2 > cutoff + skin and |e| < skin), so no pair within the cutoff
    changes.  One minimum image per pair instead of two."""
    inv_L = 1.0 / L
    s = sizes[i]
    p0, p1, p2 = x[i, 0], x[i, 1], x[i, 2]
    du = 0.0
    for m in range(np.uint64(start[i]), np.uint64(row_end(start, ends, i, half_xc * s + drift, k_lo, width))):
        k = nbr[m]
        sk = x[k, PAD]
        lam = poly_lambda(s, sk, nonadd)
        l2 = lam * lam
        t0, t1, t2 = vector_to(p0, p1, p2, x, k, L, inv_L)
        r2 = t0 * t0 + t1 * t1 + t2 * t2
        t0, t1, t2 = t0 + e0, t1 + e1, t2 + e2
        v = _phi_cut(base, t0 * t0 + t1 * t1 + t2 * t2, l2, xc2, c0, c1, c2, c3) - _phi_cut(base, r2, l2, xc2, c0, c1, c2, c3)
        du += 0.0 if sk < 0.0 else v
    for g in range(np.uint64(n_grown)):
        k = grown[g]
        lam = poly_lambda(s, sizes[k], nonadd)
        l2 = lam * lam
        t0, t1, t2 = vector_to(p0, p1, p2, x, k, L, inv_L)
        r2 = t0 * t0 + t1 * t1 + t2 * t2
        t0, t1, t2 = t0 + e0, t1 + e1, t2 + e2
        v = _phi_cut(base, t0 * t0 + t1 * t1 + t2 * t2, l2, xc2, c0, c1, c2, c3) - _phi_cut(base, r2, l2, xc2, c0, c1, c2, c3)
        du += 0.0 if k == i else v
    return du


@numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def attempts(base, x, d, sizes, xref, bound, L, T, delta, p_swap, moved, lead, disp, nb, grown, n_grown, pot, draws, k0,
              stats):
    """Run the attempts draws[k0:], updating x, sizes, the grown list and stats in place.

    x (N, PAD + 1): positions and sizes as ``_resize_energy``.  nb = (start, end, nbr, ends, k_lo,
    width, x_c / 2, skin), pot = (nonadd, x_c^2, c0, c1, c2, c3).  stats (float64 5,):
    [displacements tried, accepted, swaps tried, accepted, sum of dU].  moved (float64 2,), lead
    (int64 1,): bounds on the displacements since the build, |d_lead[0]| <= moved[0] and |d_k| <=
    moved[1] for every other k; disp (float64 N,): |d_k| for each k; all updated here.  Returns
    (index of the first attempt not done, grown-list length): the index is len(draws) when all
    ran, else the rows must be rebuilt before that attempt (its trial position would break the
    pair condition of docs/models.md, "Swap Monte Carlo", or the grown list has no room for the two particles
    of a swap).
    """
    N = x.shape[0]
    start, _, nbr, ends, k_lo, width, half_xc, skin = nb
    nonadd, xc2, c0, c1, c2, c3 = pot
    # y: the trial position (wrapped into the box), e: the step
    y, e = np.zeros(PAD), np.zeros(PAD)
    for k in range(k0, draws.shape[0]):
        u = draws[k]
        i = int(u[1] * N)
        if u[0] < p_swap:
            if n_grown + 2 > grown.shape[0]:
                return k, n_grown
            j = int(u[2] * (N - 1))
            if j >= i:
                j += 1
            si = sizes[i]
            sj = sizes[j]
            # the i-j term is symmetric in the two sizes, so it cancels and is skipped
            drift_i = disp[i] + (moved[1] if i == lead[0] else moved[0])
            drift_j = disp[j] + (moved[1] if j == lead[0] else moved[0])
            du = (_resize_energy(base, i, sj, j, x, sizes, L, start, nbr, ends, k_lo, width, half_xc, drift_i,
                                 grown, n_grown, nonadd, xc2, c0, c1, c2, c3)
                  + _resize_energy(base, j, si, i, x, sizes, L, start, nbr, ends, k_lo, width, half_xc, drift_j,
                                   grown, n_grown, nonadd, xc2, c0, c1, c2, c3))
            stats[2] += 1.0
            if du <= 0.0 or u[3] < np.exp(-du / T):
                sizes[i] = sj
                sizes[j] = si
                stats[3] += 1.0
                stats[4] += du
                for p in (i, j):
                    if x[p, PAD] < 0.0:
                        continue
                    if sizes[p] > bound[p]:
                        x[p, PAD] = -1.0
                        grown[n_grown] = p
                        n_grown += 1
                    else:
                        x[p, PAD] = sizes[p]
            continue
        moved2 = 0.0
        for c in range(d):
            e[c] = delta * (2.0 * u[FIXED_DRAWS + c] - 1.0)
            t = x[i, c] + e[c]
            if t >= L:
                t -= L
            elif t < 0.0:
                t += L
            y[c] = t
            m = t - xref[i, c]
            m -= L * np.rint(m / L)
            moved2 += m * m
        m = np.sqrt(moved2)
        other = moved[1] if i == lead[0] else moved[0]
        if m + other >= skin:
            return k, n_grown
        drift = max(m, disp[i]) + other
        du = _move_energy(base, i, e[0], e[1], e[2], x, sizes, L, start, nbr, ends, k_lo, width, half_xc, drift,
                          grown, n_grown, nonadd, xc2, c0, c1, c2, c3)
        stats[0] += 1.0
        if du <= 0.0 or u[3] < np.exp(-du / T):
            for c in range(d):
                x[i, c] = y[c]
            stats[1] += 1.0
            stats[4] += du
            disp[i] = m
            if i == lead[0]:
                moved[0] = max(moved[0], m)
            elif m > moved[0]:
                moved[1] = moved[0]
                moved[0] = m
                lead[0] = i
            else:
                moved[1] = max(moved[1], m)
    return draws.shape[0], n_grown


