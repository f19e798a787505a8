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
k sorted by key = r_ik - x_c b_k / 2 (r_ik at build).  While any two particles have together
moved by less than skin since the build (|d_i| + |d_k| < skin) and each stays below its bound,
a particle of size sigma at i's place interacts only with entries of key < x_c sigma / 2 +
drift, where drift < skin bounds |d_i| + |d_k| for the positions the trial evaluates: the loop
over a row stops there.  That holds for any sigma, so the same rows serve displacements (sigma
= s_i) and swap trials (sigma = the larger of the two sizes).  A swap that lifts a particle
above its bound makes its keys in other rows too large; such particles are flagged (their size
column in the positions array is set to -1) and kept in a short list of "grown" particles: row
loops skip them and every evaluation adds them by a direct distance check, so each pair is
still counted once.  The pair condition is checked against bounds on the largest and second
largest displacement since the build (a trial of i needs |d_i| + max_{k != i} |d_k| < skin),
which lets a lone fast particle run ahead where a ball of skin/2 per particle would not (up to
1.6x fewer builds at a fixed skin).  A trial's drift is |d_i| (kept per particle; the larger of
the old and the trial position's for a displacement) plus the bound on max_{k != i} |d_k|, so
the prefixes are short just after a build and for particles that have not moved far (against
the two bounds' sum for the old position and for swaps: 1.04-1.08x per 3D run).
The rows are rebuilt when a trial would break that condition or the grown list is full; the
same trial is then replayed, so the chain does not depend on when rebuilds happen (tested).  A
build finds each pair once (half cell stencil) and files both of its row entries with one
counting sort by (row, key bucket).  Random numbers are drawn sweep by sweep from the task's
numpy Generator, so a run is reproducible from its seed alone.

Inner loops (bench/swap_mc.py; each rule below was measured).  About a quarter of the listed
pairs are inside the cutoff, at random, so a branch on it is mispredicted often.  A trial
instead evaluates every pair of the reachable row prefix and selects (no branch), in a loop
with no early exit that LLVM vectorizes (8 doubles, gathered by neighbour index): 1.2x faster
than first compacting the pairs inside the cutoff into a work array, which was itself 2x
faster than one branching pass.  The trial kernel uses error_model="numpy": numba's default
check for division by zero is an exit from the loop, and a loop with an exit is not
vectorized.  Row loops index with unsigned integers: numba wraps negative signed indices, which
turned the contiguous load of the neighbour indices into a gather (1.15-1.5x per trial).  The
grown list holds uint64 indices for the same reason: with int64 ones its loops were not
vectorized at all (unsigned: 1.10-1.14x per 2D run at T = 2, where the list is long).  The
prefix's end is read from a table of bucket ends per row (1.07-1.16x per trial against a
branch-free binary search over the row's sorted bucket bytes, which was 2x faster than a
scan).  Conditions are combined with ``&``, not ``and``, which would branch.  Helpers inlined
into the trial loops take scalars only: an array argument of a numba-inlined function is
reference-counted on every call.  Each particle's size (or the grown flag) is stored as a
fourth column of the positions: a row entry's four gathers then come from one cache line
(1.07-1.23x per run against separate size and flag arrays).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gamma

import numba
import numpy as np

from ..kernels.cells import neighbour_offsets, sort_into_cells, stencil_table, verlet_skin
from ..kernels.forces import energy_forces
from ..kernels.pair import poly_lambda, reduced_energy_x2
from ..models import PairModel
from ..potentials import padded

# Random numbers per attempt: move kind, particle i, partner j (swap), acceptance, d displacement.
_FIXED_DRAWS = 4
# Positions are padded with zero columns to this width (POLY is 2D or 3D): a compile-time bound
# lets LLVM unroll every distance loop, 3x faster than a loop over a run-time d.  Column _W holds
# the sizes (see _resize_energy).
_W = 3
# Buckets of the row keys (see _sorted_rows): ~0.06 lambda_min wide in 3D.
_KEY_BUCKETS = 64
# Row prefixes are rounded up to a multiple of 16 entries (capped at the row's end).  LLVM runs
# the row loops 32 entries per vector iteration, then 16, then one at a time at ~3x the cost per
# entry; the extra entries lie beyond the cutoff and add exactly 0.  Displacements on fixed rows
# with prefixes of a set length (one-off micro-benchmark, ns each): 16 entries 133, 28 entries
# 250, 32 entries 150.  Rounding to 16 made 3D runs 1.03-1.05x faster (8: 1.01-1.02x, 32: 0.95x;
# one-off same-process comparison, not in bench/).
_ROUND = 16
# Default size_margin: b_k = s_k + 0.3.  At N = 2000 (2D and 3D, T = 0.5 and 2) 0.3 was as fast
# as 0.2 or up to 1.3x faster, and 0.4-0.5 slower in 3D; at N = 16000, T = 2 the 64-entry grown
# list filled about once a sweep with 0.2 and 0.3 was 1.6x faster.
SIZE_MARGIN = 0.3
# The skin is steered so that builds come every 5 to 60 sweeps, by a factor 1.1 per build.  Since
# a trial's prefix follows its drift rather than the skin, long build cycles cost little: fixed
# skin scans put the fastest at 20-65 sweeps per build for POLY 3D at T = 0.5 and 7-33 for 2D;
# at T = 2 (3D) 6-25 are level, and in 2D the full grown list forces a build every ~10 sweeps
# whatever the skin.  Under 3 sweeps per build cost 1.4x.  Against (5, 30), steered runs were
# 1.12x (3D) and 1.09x (2D) faster at T = 0.5, level at T = 2 and 0.35.
BUILD_SWEEPS = (5.0, 60.0)
_SKIN_STEP = 1.1


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
    rebuilds: neighbour-list builds; attempts: total attempts; skin: the skin at the end.
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
    skin: float


def _sorted_rows(x: np.ndarray, d: int, bound: np.ndarray, L: float, xc: float, skin: float, reach: float,
                 buffers: tuple = ()):
    """Rows of the module docstring for positions x (N, >= _W) of dimension d (zero-padded) and size
    bounds ``bound`` (N,): (start, end, nbr, ends, k_lo, width).  Row i is nbr[start[i]:end[i]]
    (particle indices, uint16 up to N = 65536 and int32 above; start, end int64 (N,)) and holds
    every k != i with key = r_ik - xc bound_k / 2 < key_max = xc max(bound) / 2 + skin.  Rows are
    bucket-sorted: the key range [k_lo, key_max) is cut into _KEY_BUCKETS buckets of ``width``,
    row i holds its entries in non-decreasing bucket order, and start[i] + [0, ends[i, b]) covers
    every entry of buckets <= b, rounded up to a multiple of _ROUND entries (capped at the row's
    end; ``ends`` (N, _KEY_BUCKETS), the dtype of nbr), so a loop that stops there for a limit in
    bucket b misses nothing and visits at most one bucket and _ROUND - 1 entries too many.  Rows
    of 2 bytes per entry (uint16 indices) keep the rows of N = 2000 in a 1 MiB L2 cache:
    1.03-1.04x per run against int32 indices (1.28x per displacement trial in a micro-benchmark
    of random particles on fixed rows).  The build works on particles sorted by cell and writes
    the rows in that order, so its scattered writes stay local: 1.1x faster than rows in
    particle order.  ``reach`` >= the largest pair radius xc max(bound) + skin; below 3 cells of
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
    nbr, ends = buffers or (np.empty(0, dtype=index), np.empty((N, _KEY_BUCKETS), dtype=index))
    start, end = np.empty(N, dtype=np.int64), np.empty(N, dtype=np.int64)
    bins = np.empty((2, len(pairs[0])), dtype=np.int64)
    count = np.zeros(N * _KEY_BUCKETS + 1, dtype=np.int64)
    k_lo = -half
    width = (key_max - k_lo) / _KEY_BUCKETS
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
    xs = np.empty((N, _W))
    bs = np.empty(N)
    for q in range(N):
        bs[q] = bound[order[q]]
        for k in range(_W):
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
    """Pairs of ``_close_pairs`` among positions xs (N, _W) and bounds bs sorted by cell into pa,
    pb, r2 (indices into the sorted arrays); returns their number, or -1 when the arrays are too
    short.  Candidates are compacted without a branch (written, and the count advanced on a
    hit).  The arrays are not regrown in here: reassigning them inside the loop cost 1.3x."""
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
                d2 = _r2_to(p0, p1, p2, xs, q, L, inv_L)
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
    row * _KEY_BUCKETS + bucket of b in a's row (bins[0]) and of a in b's row (bins[1]), -1 where
    the key is >= key_max; count (N _KEY_BUCKETS + 1,) becomes the start of each bin.  Returns the
    number of entries.  The bins are computed in a loop of their own, with no scattered count
    increments in it: 1.45x faster than one loop."""
    inv_width = 1.0 / width
    for e in range(pa.shape[0]):
        r = np.sqrt(r2[e])
        a, b = pa[e], pb[e]
        key_a, key_b = r - half_xc * bs[b], r - half_xc * bs[a]
        bin_a = a * _KEY_BUCKETS + min(int((key_a - k_lo) * inv_width), _KEY_BUCKETS - 1)
        bin_b = b * _KEY_BUCKETS + min(int((key_b - k_lo) * inv_width), _KEY_BUCKETS - 1)
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
    """Write the rows into start, end, nbr, ends (``_sorted_rows``, by particle index) from
    the bins and bin starts of ``_count_rows`` (by sorted index: particle order[p] is p)."""
    for p in range(order.shape[0]):
        start[order[p]] = count[p * _KEY_BUCKETS]
        end[order[p]] = count[(p + 1) * _KEY_BUCKETS]
    for e in range(pa.shape[0]):
        for side in range(2):
            b = bins[side, e]
            if b >= 0:
                m = count[b]
                count[b] += 1
                nbr[m] = order[pb[e] if side == 0 else pa[e]]
    # each bin's start has been advanced to its end; prefixes are rounded up (see _ROUND)
    for p in range(order.shape[0]):
        i = order[p]
        for b in range(_KEY_BUCKETS):
            ends[i, b] = min(-(-(count[p * _KEY_BUCKETS + b] - start[i]) // _ROUND) * _ROUND, end[i] - start[i])


@numba.njit(cache=True, nogil=True)
def _row_pairs(start, end, nbr):
    """The pairs (i, k), i < k, of rows (``_sorted_rows``) as two int64 arrays (P,): candidate
    pairs for ``energy_forces``, since fresh rows hold every interacting pair.  At the start of
    a 3D N = 2000 run this and energy_forces take ~3 ms, where energy_forces' own cell search
    took ~20 ms."""
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
def _min_image(t, L, inv_L):
    # branch-free: neighbours straddle the boundary at random, which defeats branch prediction
    return t - L * np.floor(t * inv_L + 0.5)


@numba.njit(cache=True, nogil=True, inline="always")
def _phi_cut(base, r2, l2, xc2, c0, c1, c2, c3):
    """phi at squared distance r2 and squared pair size l2, 0 beyond the cutoff (xc2 = x_c^2;
    c0..c3 the smoothing coefficients).  Both sides are evaluated and one is selected."""
    x2 = r2 / l2
    e = reduced_energy_x2(base, x2, c0, c1, c2, c3)
    return e if x2 < xc2 else 0.0


@numba.njit(cache=True, nogil=True, inline="always")
def _vector_to(p0, p1, p2, x, k, L, inv_L):
    """Minimum-image vector (3 scalars) from x[k] (x: (N, >= _W)) to the point (p0, p1, p2).  By
    row index, not an x[k] view: a view per pair costs reference counting in the hot loop."""
    return _min_image(p0 - x[k, 0], L, inv_L), _min_image(p1 - x[k, 1], L, inv_L), _min_image(p2 - x[k, 2], L, inv_L)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _r2_to(p0, p1, p2, x, k, L, inv_L):
    """Squared minimum-image distance from the point (p0, p1, p2) to x[k] (``_vector_to``)."""
    t0, t1, t2 = _vector_to(p0, p1, p2, x, k, L, inv_L)
    return t0 * t0 + t1 * t1 + t2 * t2


@numba.njit(cache=True, nogil=True, inline="always")
def _row_end(start, ends, i, stop, k_lo, width):
    """End of the prefix of row i (``_sorted_rows``) that a particle needs whose entries stop at
    keys >= ``stop`` (> k_lo): the buckets whose lower edge is at or below stop, rounded up to
    a multiple of _ROUND entries (``_sorted_rows``)."""
    return start[i] + ends[i, min(int((stop - k_lo) / width), _KEY_BUCKETS - 1)]


@numba.njit(cache=True, nogil=True, inline="always")
def _resize_energy(base, i, s_new, skip, x, sizes, L, start, nbr, ends, k_lo, width, half_xc, drift,
                   grown, n_grown, nonadd, xc2, c0, c1, c2, c3):
    """U(sizes[i] -> s_new) - U for particle i, over its neighbours but ``skip``.

    x (N, _W + 1): positions and, in the last column, sizes with -1 for grown particles; sizes
    (N,): the sizes.  Rows (start, nbr, ends, k_lo, width: ``_sorted_rows``),
    grown[:n_grown]: the structures of the module docstring, half_xc = x_c / 2, drift: the bound
    on |d_i| + |d_k| for this trial.  The reachable row prefix, then the grown list.  Both loops
    write the pair term out: a shared njit helper for it made trials 1.5-1.8x slower (the row
    loop was no longer vectorized as well).
    """
    inv_L = 1.0 / L
    s = sizes[i]
    p0, p1, p2 = x[i, 0], x[i, 1], x[i, 2]
    du = 0.0
    # unsigned indices: numba wraps negative signed ones, and then gathers nbr instead of loading it
    for m in range(np.uint64(start[i]), np.uint64(_row_end(start, ends, i, half_xc * max(s, s_new) + drift,
                                                             k_lo, width))):
        k = nbr[m]
        r2 = _r2_to(p0, p1, p2, x, k, L, inv_L)
        sk = x[k, _W]
        lo = poly_lambda(s, sk, nonadd)
        ln = poly_lambda(s_new, sk, nonadd)
        v = _phi_cut(base, r2, ln * ln, xc2, c0, c1, c2, c3) - _phi_cut(base, r2, lo * lo, xc2, c0, c1, c2, c3)
        du += 0.0 if (sk < 0.0) | (k == skip) else v
    for g in range(np.uint64(n_grown)):
        k = grown[g]
        r2 = _r2_to(p0, p1, p2, x, k, L, inv_L)
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
    changes.  One minimum image per pair instead of two made displacement trials 1.26x faster."""
    inv_L = 1.0 / L
    s = sizes[i]
    p0, p1, p2 = x[i, 0], x[i, 1], x[i, 2]
    du = 0.0
    for m in range(np.uint64(start[i]), np.uint64(_row_end(start, ends, i, half_xc * s + drift, k_lo, width))):
        k = nbr[m]
        sk = x[k, _W]
        lam = poly_lambda(s, sk, nonadd)
        l2 = lam * lam
        t0, t1, t2 = _vector_to(p0, p1, p2, x, k, L, inv_L)
        r2 = t0 * t0 + t1 * t1 + t2 * t2
        t0, t1, t2 = t0 + e0, t1 + e1, t2 + e2
        v = _phi_cut(base, t0 * t0 + t1 * t1 + t2 * t2, l2, xc2, c0, c1, c2, c3) - _phi_cut(base, r2, l2, xc2, c0, c1, c2, c3)
        du += 0.0 if sk < 0.0 else v
    for g in range(np.uint64(n_grown)):
        k = grown[g]
        lam = poly_lambda(s, sizes[k], nonadd)
        l2 = lam * lam
        t0, t1, t2 = _vector_to(p0, p1, p2, x, k, L, inv_L)
        r2 = t0 * t0 + t1 * t1 + t2 * t2
        t0, t1, t2 = t0 + e0, t1 + e1, t2 + e2
        v = _phi_cut(base, t0 * t0 + t1 * t1 + t2 * t2, l2, xc2, c0, c1, c2, c3) - _phi_cut(base, r2, l2, xc2, c0, c1, c2, c3)
        du += 0.0 if k == i else v
    return du


@numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _attempts(base, x, d, sizes, xref, bound, L, T, delta, p_swap, moved, lead, disp, nb, grown, n_grown, pot, draws, k0,
              stats):
    """Run the attempts draws[k0:], updating x, sizes, the grown list and stats in place.

    x (N, _W + 1): positions and sizes as ``_resize_energy``.  nb = (start, end, nbr, ends, k_lo,
    width, x_c / 2, skin), pot = (nonadd, x_c^2, c0, c1, c2, c3).  stats (float64 5,):
    [displacements tried, accepted, swaps tried, accepted, sum of dU].  moved (float64 2,), lead
    (int64 1,): bounds on the displacements since the build, |d_lead[0]| <= moved[0] and |d_k| <=
    moved[1] for every other k; disp (float64 N,): |d_k| for each k; all updated here.  Returns
    (index of the first attempt not done, grown-list length): the index is len(draws) when all
    ran, else the rows must be rebuilt before that attempt (its trial position would break the
    pair condition of the module docstring, or the grown list has no room for the two particles
    of a swap).
    """
    N = x.shape[0]
    start, _, nbr, ends, k_lo, width, half_xc, skin = nb
    nonadd, xc2, c0, c1, c2, c3 = pot
    # y: the trial position (wrapped into the box), e: the step
    y, e = np.zeros(_W), np.zeros(_W)
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
                    if x[p, _W] < 0.0:
                        continue
                    if sizes[p] > bound[p]:
                        x[p, _W] = -1.0
                        grown[n_grown] = p
                        n_grown += 1
                    else:
                        x[p, _W] = sizes[p]
            continue
        moved2 = 0.0
        for c in range(d):
            e[c] = delta * (2.0 * u[_FIXED_DRAWS + c] - 1.0)
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


def swap_mc(x0: np.ndarray, model: PairModel, T: float, sweeps: int, rng: np.random.Generator,
            p_swap: float = 0.2, delta: float = 0.1, skin: float = 0.9, tune: int | None = None,
            target: float = 0.4, max_grown: int = 64, size_margin: float = SIZE_MARGIN,
            adapt_skin: bool = True) -> SwapMCResult:
    """Swap Monte Carlo of a POLY configuration at temperature T.

    x0: float64 (N, d) positions (length lambda_min); model: a POLY PairModel whose sizes are the
    starting assignment; T: temperature (epsilon/k_B); sweeps: N attempts each; rng: the task's
    generator.  delta is tuned during the first ``tune`` sweeps (default: a tenth, at most
    1000) towards the displacement acceptance ``target`` and then frozen.  delta is capped so one
    move stays below skin/2.  ``skin`` (lambda_min, the starting value), ``size_margin`` and
    ``max_grown`` (see the module docstring; defaults from bench/swap_mc.py) only set when the
    rows are rebuilt, not the chain.  With ``adapt_skin``, after tuning each build that a
    displacement forced steers the skin towards BUILD_SWEEPS sweeps per build, never
    below what the frozen delta needs nor past the box.  Returns :class:`SwapMCResult`.
    """
    if not model.poly:
        raise ValueError(f"swap Monte Carlo needs the POLY model, got {model.name!r}")
    if not 0.0 <= p_swap <= 1.0 or T <= 0 or sweeps < 0 or skin <= 0 or max_grown < 2 or size_margin < 0:
        raise ValueError(f"bad swap-MC parameters: p_swap={p_swap}, T={T}, sweeps={sweeps}, skin={skin}, "
                         f"max_grown={max_grown}, size_margin={size_margin}")
    N, d, L = model.N, model.d, model.L
    if d > _W:
        raise ValueError(f"swap Monte Carlo is built for d <= {_W} (d = {d})")
    tune = min(sweeps // 10, 1000) if tune is None else tune
    skin_max = verlet_skin(L, model.max_cutoff, np.inf)
    skin = min(skin, skin_max)
    delta_max = 0.49 * skin / np.sqrt(d)
    delta = min(delta, delta_max)
    x = np.zeros((N, _W + 1))
    x[:, :d] = np.mod(x0, L)
    sizes = np.array(model.sizes, dtype=np.float64)
    pot = (model.nonadd, model.xc**2, *padded(model.coeffs))
    grown = np.empty(max_grown, dtype=np.uint64)
    moved, lead, disp = np.zeros(2), np.full(1, -1), np.zeros(N)
    U = None
    energy = np.empty(sweeps)
    totals = np.zeros(5)
    xref = bound = nb = None
    rebuild = True
    n_grown, rebuilds, built = 0, 0, 0
    for sweep in range(sweeps):
        draws = rng.random((N, _FIXED_DRAWS + d))
        stats = np.zeros(5)
        k = 0
        while k < N:
            if rebuild:
                # a displacement forces a build only by moving too far, a swap only by a full grown list
                if adapt_skin and rebuilds and sweep >= tune and draws[k, 0] >= p_swap:
                    skin = steered_skin(skin, (sweep * N + k - built) / N, np.sqrt(d) * delta / 0.49, skin_max)
                built = sweep * N + k
                xref, bound = x.copy(), size_bounds(sizes, size_margin)
                rows = _sorted_rows(x, d, bound, L, model.xc, skin, model.max_cutoff + skin, nb[2:4] if nb else ())
                if U is None:
                    U = energy_forces(x[:, :d], model, _row_pairs(*rows[:3]))[0]
                x[:, _W] = sizes
                moved[:], lead[0], disp[:] = 0.0, -1, 0.0
                nb = (*rows, 0.5 * model.xc, skin)
                n_grown, rebuilds = 0, rebuilds + 1
            k, n_grown = _attempts(model.base, x, d, sizes, xref, bound, L, T, delta, p_swap, moved, lead, disp, nb, grown,
                                   n_grown, pot, draws, k, stats)
            rebuild = k < N
        U += stats[4]
        energy[sweep] = U / N
        if sweep < tune:
            acc = stats[1] / max(stats[0], 1.0)
            delta = float(np.clip(delta * np.clip(acc / target, 0.8, 1.25), 1e-4, delta_max))
        else:
            totals += stats
    return SwapMCResult(np.ascontiguousarray(x[:, :d]), sizes, energy, totals[1] / max(totals[0], 1.0),
                        totals[3] / max(totals[2], 1.0), delta, min(tune, sweeps), rebuilds, sweeps * N, skin)


def steered_skin(skin: float, sweeps_since_build: float, lo: float, hi: float) -> float:
    """The skin for the next build (length lambda_min): 1.1x larger when the last build lasted
    fewer than BUILD_SWEEPS[0] sweeps, 1.1x smaller when more than BUILD_SWEEPS[1], clipped to
    [lo, hi]."""
    if sweeps_since_build < BUILD_SWEEPS[0]:
        skin *= _SKIN_STEP
    elif sweeps_since_build > BUILD_SWEEPS[1]:
        skin /= _SKIN_STEP
    return min(max(skin, lo), hi)
