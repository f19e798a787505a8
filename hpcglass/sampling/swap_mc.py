"""Swap Monte Carlo for the POLY model (physics_spec.md section 2).

One sweep is N attempts.  Each attempt is, with probability ``p_swap``, a swap of the sizes of
two random particles, otherwise a uniform displacement of one random particle in
[-delta, delta]^d; both are accepted with min(1, exp(-dU/T)).  Both moves are symmetric, so
Metropolis acceptance gives detailed balance at fixed delta.  delta is tuned towards the
target displacement acceptance during the first ``tune`` sweeps only and then frozen, so the
sweeps after tuning sample the Boltzmann distribution exactly.

Size-aware neighbour rows.  A pair interacts only below x_c lambda_ij <= x_c (s_i + s_k) / 2,
and most POLY particles are small (p(lambda) ~ lambda^-3), so a list with one radius for the
largest pair visits ~3x (3D) more neighbours than needed.  At each build every particle k gets
a size bound b_k = min(s_k + size_margin, lambda_max), and every particle i a row of neighbours
k sorted by key = r_ik - x_c b_k / 2 (r_ik at build).  While every particle stays within skin/2
of its build position and below its bound, a particle of size sigma at i's place interacts
only with entries of key < x_c sigma / 2 + skin: the loop over a row stops there.  That holds
for any sigma, so the same rows serve displacements (sigma = s_i) and swap trials (sigma = the
larger of the two sizes).  A swap that lifts a particle above its bound makes its keys in other
rows too large; such particles are flagged and kept in a short list of "grown" particles: row
loops skip them and every evaluation adds them by a direct distance check, so each pair is
still counted once.  The rows are rebuilt when a trial would leave the skin/2 ball or the grown
list is full; the same trial is then replayed, so the chain does not depend on when rebuilds
happen (tested).  Random numbers are drawn sweep by sweep from the task's numpy Generator, so a
run is reproducible from its seed alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..kernels.cells import cell_coords, neighbour_offsets, sort_into_cells
from ..kernels.forces import energy_forces
from ..kernels.pair import ipl10_energy_x2, poly_lambda
from ..models import PairModel

# Random numbers per attempt: move kind, particle i, partner j (swap), acceptance, d displacement.
_FIXED_DRAWS = 4
# Positions are padded with zero columns to this width (POLY is 2D or 3D): a compile-time bound
# lets LLVM unroll every distance loop, 3x faster than a loop over a run-time d.
_W = 3
# Buckets of the row keys (see _sorted_rows): ~0.06 lambda_min wide in 3D.
_KEY_BUCKETS = 64
# Default size_margin: b_k = s_k + 0.2 (bench/swap_mc.py; grown particles stay rare at T <= 2).
SIZE_MARGIN = 0.2


def size_bounds(sizes: np.ndarray, margin: float = SIZE_MARGIN) -> np.ndarray:
    """b_k = min(s_k + margin, max_k s_k) (N,): the sizes the rows are built for."""
    return np.minimum(sizes + margin, sizes.max())


@dataclass
class SwapMCResult:
    """State after the run and its statistics.

    x: float64 (N, d) positions wrapped into [0, L); sizes: float64 (N,) lambda_i after swaps;
    energy: float64 (sweeps,) U/N after each sweep, from the start energy plus accepted dU;
    acc_displacement, acc_swap: acceptance ratios over the sweeps after tuning;
    delta: the frozen step size; tune: sweeps spent tuning it (the first ones of ``energy``);
    rebuilds: neighbour-list builds; attempts: total attempts.
    """

    x: np.ndarray
    sizes: np.ndarray
    energy: np.ndarray
    acc_displacement: float
    acc_swap: float
    delta: float
    tune: int
    rebuilds: int
    attempts: int


def _sorted_rows(x: np.ndarray, d: int, bound: np.ndarray, L: float, xc: float, skin: float, reach: float,
                 buffers: tuple = ()):
    """Rows of the module docstring for positions x (N, _W) of dimension d (zero-padded) and size
    bounds ``bound`` (N,):
    CSR start int64 (N+1,), nbr int64 (>= M,), key float64 (>= M,) with M = start[N], each row
    holding every k with key = r_ik - xc bound_k / 2 < xc max(bound) / 2 + skin.  Rows are
    bucket-sorted: ``key`` stores the lower edge of the key's bucket (_KEY_BUCKETS over the key
    range), non-decreasing along a row and <= the key, so a loop that stops at the first stored
    key >= its limit misses nothing and visits at most one bucket too many.
    ``reach`` >= the largest pair radius xc max(bound) + skin; below 3 cells of that side per axis
    every pair is tested.  ``buffers``: (nbr, key) of the previous build, reused when they fit."""
    N = x.shape[0]
    # cells of side >= reach / 2 and a 5^d stencil test ~2x fewer candidates than side >= reach
    for cells_per_reach in (2, 1):
        nc = int(np.floor(cells_per_reach * L / reach))
        if nc >= 2 * cells_per_reach + 1:
            offsets = neighbour_offsets(d, cells_per_reach)
            break
    else:
        nc, offsets = 1, np.zeros((1, d), dtype=np.int64)
    key_max = 0.5 * xc * bound.max() + skin
    nbr, key = buffers or (np.empty(0, dtype=np.int64), np.empty(0))
    start = np.empty(N + 1, dtype=np.int64)
    while True:
        total = _fill_rows(x, d, bound, L, 0.5 * xc, key_max, nc, offsets, start, nbr, key,
                           np.zeros(_KEY_BUCKETS + 1, dtype=np.int64))
        if total <= nbr.shape[0]:
            return start, nbr, key
        nbr, key = np.empty(int(1.2 * total), dtype=np.int64), np.empty(int(1.2 * total))


@numba.njit(cache=True, nogil=True)
def _fill_rows(x, d, bound, L, half_xc, key_max, nc, offsets, start, nbr, key, count):
    """Write the bucket-sorted rows into nbr/key (as far as they hold) and start; return the
    total.  x: (N, _W) padded positions, d: the dimension, count: int64 (_KEY_BUCKETS + 1,) work."""
    N = x.shape[0]
    cell, order, cstart = sort_into_cells(x[:, :d], L, nc)
    xs = np.empty((N, _W))
    for q in range(N):
        for k in range(_W):
            xs[q, k] = x[order[q], k]
    cap = nbr.shape[0]
    inv_L = 1.0 / L
    tj = np.empty(N, dtype=np.int64)
    tb = np.empty(N, dtype=np.int64)
    nb = count.shape[0] - 1
    k_lo = -half_xc * bound.max()
    width = (key_max - k_lo) / nb
    cc = np.empty(d, dtype=np.int64)
    n = 0
    for i in range(N):
        start[i] = n
        cell_coords(cell[i], nc, cc)
        m = 0
        for o in range(offsets.shape[0]):
            c = 0
            for k in range(d):
                c = c * nc + (cc[k] + offsets[o, k]) % nc
            for q in range(cstart[c], cstart[c + 1]):
                j = order[q]
                # key < key_max  <=>  r < key_max + half_xc bound_j: test r^2 first, root only on a hit
                reach_j = key_max + half_xc * bound[j]
                r2 = _dist2(x, i, xs, q, L, inv_L)
                if r2 >= reach_j * reach_j or j == i:
                    continue
                tj[m] = j
                tb[m] = min(int((np.sqrt(r2) - half_xc * bound[j] - k_lo) / width), nb - 1)
                m += 1
        # counting sort of the row by bucket
        count[:] = 0
        for p in range(m):
            count[tb[p] + 1] += 1
        for b in range(nb):
            count[b + 1] += count[b]
        for p in range(m):
            q = n + count[tb[p]]
            count[tb[p]] += 1
            if q < cap:
                nbr[q] = tj[p]
                key[q] = k_lo + tb[p] * width
        n += m
    start[N] = n
    return n


@numba.njit(cache=True, nogil=True, fastmath=True)
def _min_image(t, L, inv_L):
    # branch-free: neighbours straddle the boundary at random, which defeats branch prediction
    return t - L * np.floor(t * inv_L + 0.5)


@numba.njit(cache=True, nogil=True, inline="always")
def _dist2(a, i, b, j, L, inv_L):
    # rows by index, not a[i] views: a view per pair costs reference counting in the hot loop
    r2 = 0.0
    for k in range(_W):
        t = _min_image(a[i, k] - b[j, k], L, inv_L)
        r2 += t * t
    return r2


@numba.njit(cache=True, nogil=True, inline="always")
def _resize_term(r2, s, s_new, sj, nonadd, xc2, c):
    """phi(r2) of the pair with size s_new minus with size s (partner sj); xc2 = x_c^2, c the four
    smoothing coefficients.  Each term is tested against its own cutoff first: most listed pairs
    are outside it, and the test needs no division."""
    du = 0.0
    lam = poly_lambda(s_new, sj, nonadd)
    if r2 < xc2 * lam * lam:
        du += ipl10_energy_x2(r2 / (lam * lam), c[0], c[1], c[2], c[3])
    lam = poly_lambda(s, sj, nonadd)
    if r2 < xc2 * lam * lam:
        du -= ipl10_energy_x2(r2 / (lam * lam), c[0], c[1], c[2], c[3])
    return du


@numba.njit(cache=True, nogil=True, inline="always")
def _move_term(r2o, r2n, lam, xc2, c):
    """phi(r2n) - phi(r2o) for a pair of size lam, each tested against the cutoff first."""
    du = 0.0
    rc2 = xc2 * lam * lam
    if r2n < rc2:
        du += ipl10_energy_x2(r2n / (lam * lam), c[0], c[1], c[2], c[3])
    if r2o < rc2:
        du -= ipl10_energy_x2(r2o / (lam * lam), c[0], c[1], c[2], c[3])
    return du


@numba.njit(cache=True, nogil=True, inline="always")
def _resize_energy(i, s_new, skip, x, sizes, L, start, nbr, key, flagged, half_xc, skin, grown, n_grown,
                   nonadd, xc2, c):
    """U(sizes[i] -> s_new) - U for particle i, over its neighbours but ``skip``.

    Rows (start, nbr, key), flagged, grown[:n_grown]: the structures of the module docstring,
    half_xc = x_c / 2.  Inlined into _attempts with plain arguments: as a call (or with tuple
    arguments) its overhead cost more than the loop itself (2.5x per 2D displacement).
    """
    inv_L = 1.0 / L
    s = sizes[i]
    stop = half_xc * max(s, s_new) + skin
    du = 0.0
    for m in range(start[i], start[i + 1]):
        if key[m] >= stop:
            break
        j = nbr[m]
        if not (flagged[j] or j == skip):
            du += _resize_term(_dist2(x, i, x, j, L, inv_L), s, s_new, sizes[j], nonadd, xc2, c)
    for g in range(n_grown):
        j = grown[g]
        if j != i and j != skip:
            du += _resize_term(_dist2(x, i, x, j, L, inv_L), s, s_new, sizes[j], nonadd, xc2, c)
    return du


@numba.njit(cache=True, nogil=True, inline="always")
def _move_energy(i, y, x, sizes, L, start, nbr, key, flagged, half_xc, skin, grown, n_grown, nonadd, xc2, c):
    """U(x[i] -> y[0]) - U(x[i]) for particle i moved to y (1, _W), in one pass over its neighbours."""
    inv_L = 1.0 / L
    s = sizes[i]
    stop = half_xc * s + skin
    du = 0.0
    for m in range(start[i], start[i + 1]):
        if key[m] >= stop:
            break
        j = nbr[m]
        if flagged[j]:
            continue
        # old and new distance in one loop, x[j] loaded once (a shared distance helper cost 15 %)
        r2o = 0.0
        r2n = 0.0
        for k in range(_W):
            t = _min_image(x[i, k] - x[j, k], L, inv_L)
            r2o += t * t
            t = _min_image(y[0, k] - x[j, k], L, inv_L)
            r2n += t * t
        du += _move_term(r2o, r2n, poly_lambda(s, sizes[j], nonadd), xc2, c)
    for g in range(n_grown):
        j = grown[g]
        if j != i:
            du += _move_term(_dist2(x, i, x, j, L, inv_L), _dist2(y, 0, x, j, L, inv_L),
                             poly_lambda(s, sizes[j], nonadd), xc2, c)
    return du


@numba.njit(cache=True, nogil=True)
def _attempts(x, d, sizes, xref, bound, L, T, delta, p_swap, half_skin2, nb, grown, n_grown, pot, draws, k0,
              stats):
    """Run the attempts draws[k0:], updating x, sizes, the grown list and stats in place.

    stats (float64 5,): [displacements tried, accepted, swaps tried, accepted, sum of dU].
    Returns (index of the first attempt not done, grown-list length): the index is len(draws)
    when all ran, else the rows must be rebuilt before that attempt (its trial position leaves
    the skin/2 ball, or the grown list has no room for the two particles of a swap).
    """
    N = x.shape[0]
    start, nbr, key, flagged, half_xc, skin = nb
    nonadd, xc2, coef = pot
    y = np.zeros((1, _W))
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
            du = (_resize_energy(i, sj, j, x, sizes, L, start, nbr, key, flagged, half_xc, skin, grown, n_grown,
                                 nonadd, xc2, coef)
                  + _resize_energy(j, si, i, x, sizes, L, start, nbr, key, flagged, half_xc, skin, grown, n_grown,
                                   nonadd, xc2, coef))
            stats[2] += 1.0
            if du <= 0.0 or u[3] < np.exp(-du / T):
                sizes[i] = sj
                sizes[j] = si
                stats[3] += 1.0
                stats[4] += du
                for p in (i, j):
                    if sizes[p] > bound[p] and not flagged[p]:
                        flagged[p] = True
                        grown[n_grown] = p
                        n_grown += 1
            continue
        moved2 = 0.0
        for c in range(d):
            t = x[i, c] + delta * (2.0 * u[_FIXED_DRAWS + c] - 1.0)
            if t >= L:
                t -= L
            elif t < 0.0:
                t += L
            y[0, c] = t
            m = t - xref[i, c]
            m -= L * np.rint(m / L)
            moved2 += m * m
        if moved2 >= half_skin2:
            return k, n_grown
        du = _move_energy(i, y, x, sizes, L, start, nbr, key, flagged, half_xc, skin, grown, n_grown,
                          nonadd, xc2, coef)
        stats[0] += 1.0
        if du <= 0.0 or u[3] < np.exp(-du / T):
            for c in range(d):
                x[i, c] = y[0, c]
            stats[1] += 1.0
            stats[4] += du
    return draws.shape[0], n_grown


def swap_mc(x0: np.ndarray, model: PairModel, T: float, sweeps: int, rng: np.random.Generator,
            p_swap: float = 0.2, delta: float = 0.1, skin: float = 0.9, tune: int | None = None,
            target: float = 0.4, max_grown: int = 64, size_margin: float = SIZE_MARGIN) -> SwapMCResult:
    """Swap Monte Carlo of a POLY configuration at temperature T.

    x0: float64 (N, d) positions (length lambda_min); model: a POLY PairModel whose sizes are the
    starting assignment; T: temperature (epsilon/k_B); sweeps: N attempts each; rng: the task's
    generator.  delta is tuned during the first ``tune`` sweeps (default: a tenth, at most
    1000) towards the displacement acceptance ``target`` and then frozen.  delta is capped so one
    move stays below skin/2.  ``skin`` (lambda_min), ``size_margin`` and ``max_grown`` (see the
    module docstring; defaults from bench/swap_mc.py) only set when the rows are rebuilt, not the
    chain.  Returns :class:`SwapMCResult`.
    """
    if not model.poly:
        raise ValueError(f"swap Monte Carlo needs the POLY model, got {model.name!r}")
    if not 0.0 <= p_swap <= 1.0 or T <= 0 or sweeps < 0 or skin <= 0 or max_grown < 2 or size_margin < 0:
        raise ValueError(f"bad swap-MC parameters: p_swap={p_swap}, T={T}, sweeps={sweeps}, skin={skin}, "
                         f"max_grown={max_grown}, size_margin={size_margin}")
    N, d, L = model.N, model.d, model.L
    if d > _W or model.base != 0 or len(model.coeffs) > 4:
        raise ValueError(f"swap Monte Carlo is built for the POLY r^-10 potential in d <= {_W} "
                         f"with at most 4 smoothing terms (d = {d}, {len(model.coeffs)} terms)")
    tune = min(sweeps // 10, 1000) if tune is None else tune
    rc = min(model.max_cutoff + skin, 0.4999 * L)
    skin = rc - model.max_cutoff
    if skin <= 0:
        raise ValueError(f"box side {L} leaves no Verlet skin beyond the cutoff {model.max_cutoff}")
    delta_max = 0.49 * skin / np.sqrt(d)
    delta = min(delta, delta_max)
    x = np.zeros((N, _W))
    x[:, :d] = np.mod(x0, L)
    sizes = np.array(model.sizes, dtype=np.float64)
    c = np.zeros(4)
    c[:len(model.coeffs)] = model.coeffs
    pot = (model.nonadd, model.xc**2, c)
    grown = np.empty(max_grown, dtype=np.int64)
    flagged = np.zeros(N, dtype=np.bool_)
    U = energy_forces(x[:, :d], model)[0]
    energy = np.empty(sweeps)
    totals = np.zeros(5)
    xref = bound = nb = None
    rebuild = True
    n_grown, rebuilds = 0, 0
    for sweep in range(sweeps):
        draws = rng.random((N, _FIXED_DRAWS + d))
        stats = np.zeros(5)
        k = 0
        while k < N:
            if rebuild:
                xref, bound = x.copy(), size_bounds(sizes, size_margin)
                start, nbr, key = _sorted_rows(x, d, bound, L, model.xc, skin, rc, nb[1:3] if nb else ())
                flagged[:] = False
                nb = (start, nbr, key, flagged, 0.5 * model.xc, skin)
                n_grown, rebuilds = 0, rebuilds + 1
            k, n_grown = _attempts(x, d, sizes, xref, bound, L, T, delta, p_swap, 0.25 * skin**2, nb, grown, n_grown,
                                   pot, draws, k, stats)
            rebuild = k < N
        U += stats[4]
        energy[sweep] = U / N
        if sweep < tune:
            acc = stats[1] / max(stats[0], 1.0)
            delta = float(np.clip(delta * np.clip(acc / target, 0.8, 1.25), 1e-4, delta_max))
        else:
            totals += stats
    return SwapMCResult(np.ascontiguousarray(x[:, :d]), sizes, energy, totals[1] / max(totals[0], 1.0),
                        totals[3] / max(totals[2], 1.0), delta, min(tune, sweeps), rebuilds, sweeps * N)
