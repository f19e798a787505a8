"""Swap Monte Carlo for the POLY model (physics_spec.md section 2).

One sweep is N attempts.  Each attempt is, with probability ``p_swap``, a swap of the sizes of
two random particles, otherwise a uniform displacement of one random particle in
[-delta, delta]^d; both are accepted with min(1, exp(-dU/T)).  Both moves are symmetric, so
Metropolis acceptance gives detailed balance at fixed delta.  delta is tuned towards the
target displacement acceptance during the first ``tune`` sweeps only and then frozen, so the
sweeps after tuning sample the Boltzmann distribution exactly.

Neighbours come from a full (both directions) Verlet list of radius x_c * lambda_max + skin,
stored as CSR.  The list is valid while every particle stays within skin/2 of where it was at
the last build.  A trial that would leave that ball stops the compiled loop, the list is
rebuilt from the current positions, and the same trial is replayed: the result does not depend
on when rebuilds happen.  Random numbers are drawn sweep by sweep from the task's numpy Generator,
so a run is reproducible from its seed alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..kernels.cells import candidate_pairs
from ..kernels.forces import energy_forces
from ..kernels.pair import pair_energy_r2, poly_lambda
from ..models import PairModel

# Random numbers per attempt: move kind, particle i, partner j (swap), acceptance, d displacement.
_FIXED_DRAWS = 4


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


def _neighbour_csr(x: np.ndarray, L: float, rc: float) -> tuple[np.ndarray, np.ndarray]:
    """Full neighbour lists within rc as CSR: (start int64 (N+1,), nbr int64 (2P,))."""
    pi, pj = candidate_pairs(x, L, rc)
    N = x.shape[0]
    both_i = np.concatenate([pi, pj])
    both_j = np.concatenate([pj, pi])
    order = np.argsort(both_i, kind="stable")
    start = np.zeros(N + 1, dtype=np.int64)
    np.cumsum(np.bincount(both_i, minlength=N), out=start[1:])
    return start, np.ascontiguousarray(both_j[order])


@numba.njit(cache=True, nogil=True, fastmath=True)
def _min_image(t, L, inv_L):
    # branch-free: neighbours straddle the boundary at random, which defeats branch prediction
    return t - L * np.floor(t * inv_L + 0.5)


@numba.njit(cache=True, nogil=True)
def _resize_energy(i, s_new, skip, x, sizes, L, start, nbr, nonadd, xc, coeffs, rc2max):
    """U(sizes[i] -> s_new) - U for particle i, over its listed neighbours but ``skip``."""
    d = x.shape[1]
    inv_L = 1.0 / L
    s = sizes[i]
    du = 0.0
    for m in range(start[i], start[i + 1]):
        j = nbr[m]
        r2 = 0.0
        for k in range(d):
            t = _min_image(x[i, k] - x[j, k], L, inv_L)
            r2 += t * t
        if r2 < rc2max and j != skip:
            sj = sizes[j]
            du += (pair_energy_r2(r2, poly_lambda(s_new, sj, nonadd), 1.0, 0, xc, coeffs)
                   - pair_energy_r2(r2, poly_lambda(s, sj, nonadd), 1.0, 0, xc, coeffs))
    return du


@numba.njit(cache=True, nogil=True)
def _move_energy(i, y, x, sizes, L, start, nbr, nonadd, xc, coeffs, rc2max):
    """U(x[i] -> y) - U(x[i]) for particle i moved to y (d,), in one pass over its neighbours."""
    d = x.shape[1]
    inv_L = 1.0 / L
    s = sizes[i]
    du = 0.0
    for m in range(start[i], start[i + 1]):
        j = nbr[m]
        # old and new distance in one loop, x[j] loaded once (a shared distance helper cost 15 %)
        r2o = 0.0
        r2n = 0.0
        for k in range(d):
            t = _min_image(x[i, k] - x[j, k], L, inv_L)
            r2o += t * t
            t = _min_image(y[k] - x[j, k], L, inv_L)
            r2n += t * t
        if r2o < rc2max or r2n < rc2max:
            lam = poly_lambda(s, sizes[j], nonadd)
            du += pair_energy_r2(r2n, lam, 1.0, 0, xc, coeffs) - pair_energy_r2(r2o, lam, 1.0, 0, xc, coeffs)
    return du


@numba.njit(cache=True, nogil=True)
def _attempts(x, sizes, xref, L, T, delta, p_swap, half_skin2, start, nbr, nonadd, xc, coeffs, rc2max,
              draws, k0, stats):
    """Run the attempts draws[k0:], updating x, sizes and stats in place.

    stats (float64 5,): [displacements tried, accepted, swaps tried, accepted, sum of dU].
    Returns the index of the first attempt not done: len(draws) when all ran, or the attempt
    whose trial position leaves the list's validity ball (the caller rebuilds and resumes).
    """
    N, d = x.shape
    y = np.empty(d)
    for k in range(k0, draws.shape[0]):
        u = draws[k]
        i = int(u[1] * N)
        if u[0] < p_swap:
            j = int(u[2] * (N - 1))
            if j >= i:
                j += 1
            si = sizes[i]
            sj = sizes[j]
            # the i-j term is symmetric in the two sizes, so it cancels and is skipped
            du = (_resize_energy(i, sj, j, x, sizes, L, start, nbr, nonadd, xc, coeffs, rc2max)
                  + _resize_energy(j, si, i, x, sizes, L, start, nbr, nonadd, xc, coeffs, rc2max))
            stats[2] += 1.0
            if du <= 0.0 or u[3] < np.exp(-du / T):
                sizes[i] = sj
                sizes[j] = si
                stats[3] += 1.0
                stats[4] += du
            continue
        moved2 = 0.0
        for c in range(d):
            t = x[i, c] + delta * (2.0 * u[_FIXED_DRAWS + c] - 1.0)
            if t >= L:
                t -= L
            elif t < 0.0:
                t += L
            y[c] = t
            m = t - xref[i, c]
            m -= L * np.rint(m / L)
            moved2 += m * m
        if moved2 >= half_skin2:
            return k
        du = _move_energy(i, y, x, sizes, L, start, nbr, nonadd, xc, coeffs, rc2max)
        stats[0] += 1.0
        if du <= 0.0 or u[3] < np.exp(-du / T):
            for c in range(d):
                x[i, c] = y[c]
            stats[1] += 1.0
            stats[4] += du
    return draws.shape[0]


def swap_mc(x: np.ndarray, model: PairModel, T: float, sweeps: int, rng: np.random.Generator,
            p_swap: float = 0.2, delta: float = 0.1, skin: float = 1.0, tune: int | None = None,
            target: float = 0.4) -> SwapMCResult:
    """Swap Monte Carlo of a POLY configuration at temperature T.

    x: float64 (N, d) positions (length lambda_min); model: a POLY PairModel whose sizes are the
    starting assignment; T: temperature (epsilon/k_B); sweeps: N attempts each; rng: the task's
    generator.  delta is tuned during the first ``tune`` sweeps (default: a tenth, at most
    1000) towards the displacement acceptance ``target`` and then frozen.  delta is capped so one
    move stays below skin/2.  Returns :class:`SwapMCResult`.
    """
    if not model.poly:
        raise ValueError(f"swap Monte Carlo needs the POLY model, got {model.name!r}")
    if not 0.0 <= p_swap <= 1.0 or T <= 0 or sweeps < 0 or skin <= 0:
        raise ValueError(f"bad swap-MC parameters: p_swap={p_swap}, T={T}, sweeps={sweeps}, skin={skin}")
    N, d, L = model.N, model.d, model.L
    tune = min(sweeps // 10, 1000) if tune is None else tune
    rc = min(model.max_cutoff + skin, 0.4999 * L)
    half_skin = 0.5 * (rc - model.max_cutoff)
    if half_skin <= 0:
        raise ValueError(f"box side {L} leaves no Verlet skin beyond the cutoff {model.max_cutoff}")
    delta_max = 0.98 * half_skin / np.sqrt(d)
    delta = min(delta, delta_max)
    x = np.mod(np.array(x, dtype=np.float64), L)
    sizes = np.array(model.sizes, dtype=np.float64)
    coeffs = np.ascontiguousarray(model.coeffs)
    start, nbr = _neighbour_csr(x, L, rc)
    xref, rebuilds = x.copy(), 1
    U = energy_forces(x, model)[0]
    energy = np.empty(sweeps)
    totals = np.zeros(5)
    for sweep in range(sweeps):
        draws = rng.random((N, _FIXED_DRAWS + d))
        stats = np.zeros(5)
        k = 0
        while k < N:
            k = _attempts(x, sizes, xref, L, T, delta, p_swap, half_skin**2, start, nbr, model.nonadd,
                          model.xc, coeffs, model.max_cutoff**2, draws, k, stats)
            if k < N:
                start, nbr = _neighbour_csr(x, L, rc)
                xref[:] = x
                rebuilds += 1
        U += stats[4]
        energy[sweep] = U / N
        if sweep < tune:
            acc = stats[1] / max(stats[0], 1.0)
            delta = float(np.clip(delta * np.clip(acc / target, 0.8, 1.25), 1e-4, delta_max))
        else:
            totals += stats
    return SwapMCResult(x, sizes, energy, totals[1] / max(totals[0], 1.0), totals[3] / max(totals[2], 1.0),
                        delta, min(tune, sweeps), rebuilds, sweeps * N)
