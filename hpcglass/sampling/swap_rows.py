"""Size-aware neighbour rows of swap Monte Carlo (POLY): who can interact with whom.

A pair interacts only below x_c lambda_ij <= x_c (s_i + s_k) / 2.  At each build every particle
k gets a size bound b_k = min(s_k + size_margin, lambda_max), and every particle i a row of
neighbours k sorted by key = r_ik - x_c b_k / 2 (r_ik at build).  While any two particles have
together moved by less than the skin since the build and each stays below its bound, a particle
of size sigma at i's place interacts only with entries of key < x_c sigma / 2 + drift (drift:
the bound on |d_i| + |d_k|), so a trial loops over a prefix of the row.  The same rows serve
displacements (sigma = s_i) and swaps (sigma = the larger size).  The construction, the bucket
layout and the measurements behind each choice are in docs/models.md ("Swap Monte Carlo").
"""

from __future__ import annotations

from math import gamma

import numba
import numpy as np

from ..kernels.cells import neighbour_offsets, sort_into_cells, stencil_table

# Positions are padded with zero columns to this width (POLY is 2D or 3D): a compile-time bound
# lets LLVM unroll every distance loop.  Column PAD holds the sizes (see swap_trials).
PAD = 3
# Buckets of the row keys (see sorted_rows): ~0.06 lambda_min wide in 3D.
KEY_BUCKETS = 64
# Row prefixes are rounded up to a multiple of this many entries (capped at the row's end), the
# vector width LLVM runs the row loops at; the extra entries lie beyond the cutoff and add 0.
ROUND = 16
# Default size_margin: b_k = s_k + 0.3 (docs/models.md, "Swap Monte Carlo").
SIZE_MARGIN = 0.3


def size_bounds(sizes: np.ndarray, margin: float = SIZE_MARGIN) -> np.ndarray:
    """b_k = min(s_k + margin, max_k s_k) (N,): the sizes the rows are built for."""
    return np.minimum(sizes + margin, sizes.max())



def sorted_rows(x: np.ndarray, d: int, bound: np.ndarray, L: float, xc: float, skin: float, reach: float,
                 buffers: tuple = ()):
    """Rows of the module docstring for positions x (N, >= PAD) of dimension d (zero-padded) and size
    bounds ``bound`` (N,): (start, end, nbr, ends, k_lo, width).  Row i is nbr[start[i]:end[i]]
    (particle indices, uint16 up to N = 65536 and int32 above; start, end int64 (N,)) and holds
    every k != i with key = r_ik - xc bound_k / 2 < key_max = xc max(bound) / 2 + skin.  Rows are
    bucket-sorted: the key range [k_lo, key_max) is cut into KEY_BUCKETS buckets of ``width``,
    row i holds its entries in non-decreasing bucket order, and start[i] + [0, ends[i, b]) covers
    every entry of buckets <= b, rounded up to a multiple of ROUND entries (capped at the row's
    end; ``ends`` (N, KEY_BUCKETS), the dtype of nbr), so a loop that stops there for a limit in
    bucket b misses nothing and visits at most one bucket and ROUND - 1 entries too many.  Rows are
    stored with 2-byte indices up to N = 65536 and written in cell-sorted order (cache reuse).  ``reach`` >= the largest pair radius xc max(bound) + skin; below 3 cells of
    that side per axis every pair is tested.  ``buffers``: (nbr, ends) of the previous build,
    reused when they fit."""
    N = x.shape[0]
    # cells of side >= reach / 2 and a 5^d stencil test ~2x fewer candidates than side >= reach;
    # fewer than 5 such cells per axis means fewer than 3 of side reach: test every pair
    nc = int(np.floor(2 * L / reach))
    if nc >= 5:
        offsets = neighbour_offsets(d, 2)
    else:
        nc, offsets = 1, np.zeros((1, d), dtype=np.int64)
    # half the stencil (first non-zero offset positive) and the own cell: each pair once
    nonzero = offsets != 0
    first = offsets[np.arange(len(offsets)), np.argmax(nonzero, axis=1)]
    offsets = offsets[(first > 0) | ~nonzero.any(axis=1)]
    # the largest x_c b_k / 2: keys lie in [-half, key_max)
    half = 0.5 * xc * bound.max()
    key_max = half + skin
    # pairs within the largest radius in an ideal gas, plus N: room for a first try
    ball = np.pi ** (d / 2) / gamma(d / 2 + 1) * (key_max + half) ** d
    cap = int(1.2 * N * N / L**d * ball / 2) + N
    *pairs, order, bs = _close_pairs(x, d, bound, L, 0.5 * xc, key_max, nc, offsets, cap)
    index = np.uint16 if N <= 1 << 16 else np.int32
    nbr, ends = buffers or (np.empty(0, dtype=index), np.empty((N, KEY_BUCKETS), dtype=index))
    start, end = np.empty(N, dtype=np.int64), np.empty(N, dtype=np.int64)
    bins = np.empty((2, len(pairs[0])), dtype=np.int64)
    count = np.zeros(N * KEY_BUCKETS + 1, dtype=np.int64)
    k_lo = -half
    width = (key_max - k_lo) / KEY_BUCKETS
    total = _count_rows(*pairs, bs, 0.5 * xc, key_max, k_lo, width, bins, count)
    if total > nbr.shape[0]:
        nbr = np.empty(int(1.2 * total), dtype=index)
    _fill_rows(pairs[0], pairs[1], order, bins, count, start, end, nbr, ends)
    return start, end, nbr, ends, k_lo, width


@numba.njit(cache=True, nogil=True)
def _close_pairs(x, d, bound, L, half_xc, key_max, nc, offsets, cap):
    """Every pair (a, b) with r_ab < key_max + half_xc max(bound_a, bound_b), once, from nc^d
    cells and the half stencil ``offsets`` (int64 (n, d), the zero offset included): (a int64 (P,),
    b int64 (P,), r2 float64 (P,) squared distance, order int64 (N,), bs float64 (N,)), a and b
    indices into ``order``, the particles sorted by cell, and bs = bound[order].  cap: the first
    guess of P (doubled until the pairs fit)."""
    N = x.shape[0]
    cell, order, cstart = sort_into_cells(x[:, :d], L, nc)
    stencil = stencil_table(nc, d, offsets)
    xs = np.empty((N, PAD))
    bs = np.empty(N)
    for q in range(N):
        bs[q] = bound[order[q]]
        for k in range(PAD):
            xs[q, k] = x[order[q], k]
    while True:
        pa = np.empty(cap, dtype=np.int64)
        pb = np.empty(cap, dtype=np.int64)
        r2 = np.empty(cap)
        n = _cell_pairs(xs, bs, cell[order], cstart, stencil, L, half_xc, key_max, pa, pb, r2)
        if n >= 0:
            return pa[:n], pb[:n], r2[:n], order, bs
        cap *= 2


@numba.njit(cache=True, nogil=True, fastmath=True)
def _cell_pairs(xs, bs, cell, cstart, stencil, L, half_xc, key_max, pa, pb, r2):
    """Pairs of ``_close_pairs`` among positions xs (N, PAD) and bounds bs sorted by cell into pa,
    pb, r2 (indices into the sorted arrays); returns their number, or -1 when the arrays are too
    short.  Candidates are compacted without a branch (written, and the count advanced on a
    hit).  The arrays are not regrown in here (reassigning them inside the loop is slow)."""
    N = xs.shape[0]
    inv_L = 1.0 / L
    n = 0
    for p in range(N):
        # the stencil cells are distinct, so p has fewer than N candidates
        if n + N > pa.shape[0]:
            return -1
        reach_p = key_max + half_xc * bs[p]
        p0, p1, p2 = xs[p, 0], xs[p, 1], xs[p, 2]
        for o in range(stencil.shape[1]):
            c = stencil[cell[p], o]
            # unsigned indices: numba wraps negative signed ones
            for q in range(np.uint64(p + 1 if c == cell[p] else cstart[c]), np.uint64(cstart[c + 1])):
                d2 = r2_to(p0, p1, p2, xs, q, L, inv_L)
                reach = max(reach_p, key_max + half_xc * bs[q])
                pa[n] = p
                pb[n] = q
                r2[n] = d2
                n += d2 < reach * reach
    return n


@numba.njit(cache=True, nogil=True, fastmath=True)
def _count_rows(pa, pb, r2, bs, half_xc, key_max, k_lo, width, bins, count):
    """Bin the row entries of the pairs (``_close_pairs``, bs the sorted bounds) by (row, key
    bucket), rows and pairs in sorted indices: bins (2, P) gets
    row * KEY_BUCKETS + bucket of b in a's row (bins[0]) and of a in b's row (bins[1]), -1 where
    the key is >= key_max; count (N KEY_BUCKETS + 1,) becomes the start of each bin.  Returns the
    number of entries.  The bins are computed in a loop of their own, with no scattered count
    increments in it."""
    inv_width = 1.0 / width
    for e in range(pa.shape[0]):
        r = np.sqrt(r2[e])
        a, b = pa[e], pb[e]
        key_a, key_b = r - half_xc * bs[b], r - half_xc * bs[a]
        bin_a = a * KEY_BUCKETS + min(int((key_a - k_lo) * inv_width), KEY_BUCKETS - 1)
        bin_b = b * KEY_BUCKETS + min(int((key_b - k_lo) * inv_width), KEY_BUCKETS - 1)
        bins[0, e] = bin_a if key_a < key_max else -1
        bins[1, e] = bin_b if key_b < key_max else -1
    for side in range(2):
        for e in range(pa.shape[0]):
            count[bins[side, e] + 1] += bins[side, e] >= 0
    for b in range(count.shape[0] - 1):
        count[b + 1] += count[b]
    return count[-1]


@numba.njit(cache=True, nogil=True)
def _fill_rows(pa, pb, order, bins, count, start, end, nbr, ends):
    """Write the rows into start, end, nbr, ends (``sorted_rows``, by particle index) from
    the bins and bin starts of ``_count_rows`` (by sorted index: particle order[p] is p)."""
    for p in range(order.shape[0]):
        start[order[p]] = count[p * KEY_BUCKETS]
        end[order[p]] = count[(p + 1) * KEY_BUCKETS]
    for e in range(pa.shape[0]):
        for side in range(2):
            b = bins[side, e]
            if b >= 0:
                m = count[b]
                count[b] += 1
                nbr[m] = order[pb[e] if side == 0 else pa[e]]
    # each bin's start has been advanced to its end; prefixes are rounded up (see ROUND)
    for p in range(order.shape[0]):
        i = order[p]
        for b in range(KEY_BUCKETS):
            ends[i, b] = min(-(-(count[p * KEY_BUCKETS + b] - start[i]) // ROUND) * ROUND, end[i] - start[i])


@numba.njit(cache=True, nogil=True)
def row_pairs(start, end, nbr):
    """The pairs (i, k), i < k, of rows (``sorted_rows``) as two int64 arrays (P,): candidate
    pairs for ``energy_forces``, since fresh rows hold every interacting pair (cheaper than a fresh cell search)."""
    n = 0
    for i in range(start.shape[0]):
        for m in range(start[i], end[i]):
            n += nbr[m] > i
    pi, pk = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    n = 0
    for i in range(start.shape[0]):
        for m in range(start[i], end[i]):
            if nbr[m] > i:
                pi[n], pk[n] = i, nbr[m]
                n += 1
    return pi, pk


@numba.njit(cache=True, nogil=True, fastmath=True)
def min_image(t, L, inv_L):
    # branch-free: neighbours straddle the boundary at random, which defeats branch prediction
    return t - L * np.floor(t * inv_L + 0.5)


@numba.njit(cache=True, nogil=True, inline="always")
def vector_to(p0, p1, p2, x, k, L, inv_L):
    """Minimum-image vector (3 scalars) from x[k] (x: (N, >= PAD)) to the point (p0, p1, p2).  By
    row index, not an x[k] view: a view per pair costs reference counting in the hot loop."""
    return min_image(p0 - x[k, 0], L, inv_L), min_image(p1 - x[k, 1], L, inv_L), min_image(p2 - x[k, 2], L, inv_L)


@numba.njit(cache=True, nogil=True, fastmath=True)
def r2_to(p0, p1, p2, x, k, L, inv_L):
    """Squared minimum-image distance from the point (p0, p1, p2) to x[k] (``vector_to``)."""
    t0, t1, t2 = vector_to(p0, p1, p2, x, k, L, inv_L)
    return t0 * t0 + t1 * t1 + t2 * t2


@numba.njit(cache=True, nogil=True, inline="always")
def row_end(start, ends, i, stop, k_lo, width):
    """End of the prefix of row i (``sorted_rows``) that a particle needs whose entries stop at
    keys >= ``stop`` (> k_lo): the buckets whose lower edge is at or below stop, rounded up to
    a multiple of ROUND entries (``sorted_rows``)."""
    return start[i] + ends[i, min(int((stop - k_lo) / width), KEY_BUCKETS - 1)]


