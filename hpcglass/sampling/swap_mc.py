"""Swap Monte Carlo for the POLY model (docs/models.md, "Swap Monte Carlo").

One sweep is N attempts.  Each attempt is, with probability ``p_swap``, a swap of the sizes of
two random particles, otherwise a uniform displacement of one random particle in
[-delta, delta]^d; both are accepted with min(1, exp(-dU/T)).  Both moves are symmetric, so
Metropolis acceptance gives detailed balance at fixed delta.  delta is tuned towards the
target displacement acceptance during the first ``tune`` sweeps only and then frozen, so the
sweeps after tuning sample the Boltzmann distribution exactly.  The neighbour rows
(``swap_rows``) are rebuilt when a trial would leave their guarantee, and that trial is then
replayed, so the chain does not depend on when rebuilds happen.  Random numbers are drawn sweep
by sweep from the generator given, so a run is reproducible from its seed alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels.cells import verlet_skin
from ..kernels.forces import energy_forces
from ..models import PairModel
from ..potentials import padded
from .swap_rows import PAD, SIZE_MARGIN, row_pairs, size_bounds, sorted_rows
from .swap_trials import FIXED_DRAWS, attempts

# The skin is steered so that builds come every 5 to 60 sweeps, by a factor 1.1 per build (a
# trial's prefix follows its drift rather than the skin, so long build cycles cost little;
# docs/models.md, "Swap Monte Carlo").
BUILD_SWEEPS = (5.0, 60.0)
_SKIN_STEP = 1.1


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
    ``max_grown`` (docs/models.md, "Swap Monte Carlo"; defaults from bench/swap_mc.py) only set when the
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
    if d > PAD:
        raise ValueError(f"swap Monte Carlo is built for d <= {PAD} (d = {d})")
    tune = min(sweeps // 10, 1000) if tune is None else tune
    skin_max = verlet_skin(L, model.max_cutoff, np.inf)
    skin = min(skin, skin_max)
    delta_max = 0.49 * skin / np.sqrt(d)
    delta = min(delta, delta_max)
    x = np.zeros((N, PAD + 1))
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
        draws = rng.random((N, FIXED_DRAWS + d))
        stats = np.zeros(5)
        k = 0
        while k < N:
            if rebuild:
                # a displacement forces a build only by moving too far, a swap only by a full grown list
                if adapt_skin and rebuilds and sweep >= tune and draws[k, 0] >= p_swap:
                    skin = steered_skin(skin, (sweep * N + k - built) / N, np.sqrt(d) * delta / 0.49, skin_max)
                built = sweep * N + k
                xref, bound = x.copy(), size_bounds(sizes, size_margin)
                rows = sorted_rows(x, d, bound, L, model.xc, skin, model.max_cutoff + skin, nb[2:4] if nb else ())
                if U is None:
                    U = energy_forces(x[:, :d], model, row_pairs(*rows[:3]))[0]
                x[:, PAD] = sizes
                moved[:], lead[0], disp[:] = 0.0, -1, 0.0
                nb = (*rows, 0.5 * model.xc, skin)
                n_grown, rebuilds = 0, rebuilds + 1
            k, n_grown = attempts(model.base, x, d, sizes, xref, bound, L, T, delta, p_swap, moved, lead, disp, nb, grown,
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

