"""What one task does, step by step, for each task kind, and how its results are laid out.

A workflow returns a dict of numpy arrays.  Fields named in the kind's ``ragged`` set have a
task-dependent length along axis 0 and are stored flat with an offset table; every other field
has the same shape in every task and is stacked.  ``constants`` are per-ensemble arrays that
depend only on the validated parameters (written once per ensemble).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .config import MODEL_DIMENSIONS
from .tasks import Task


@dataclass(frozen=True)
class KindLayout:
    """run(task, root_seed) -> fields; which fields are ragged; per-ensemble constants; and
    ``h5md``: (position field, species/size field) linked into /particles/<ensemble>."""

    run: Callable[[Task, int], dict]
    ragged: frozenset
    constants: Callable[[object], dict]
    h5md: tuple = ()


def lattice_hist_edges(ens) -> np.ndarray:
    """Log-spaced histogram edges on [hist_min, 1], ``hist_bins_per_decade`` per decade (float64)."""
    decades = -np.log10(ens.hist_min)
    nbins = max(1, int(round(decades * ens.hist_bins_per_decade)))
    return np.logspace(np.log10(ens.hist_min), 0.0, nbins + 1)


def run_lattice(task: Task, root_seed: int) -> dict:
    """One batch of lattice-model realizations: raw kappa (float64) and its log histogram."""
    from .lattice import generator, lattice_kappa

    ens = task.ensemble
    kappa = lattice_kappa(ens.d, ens.L, task.size, generator(task.seed_sequence(root_seed)))
    edges = lattice_hist_edges(ens)
    counts, _ = np.histogram(kappa, bins=edges)
    return {
        "kappa": kappa,
        "hist_counts": counts.astype(np.int64),
        "hist_below": np.int64(np.count_nonzero(kappa < edges[0])),
    }


# Blocks of the sampling at T_p whose mean U/N is stored (eq_energy_series).
EQ_BLOCKS = 16


def equilibration_record(block_means, block_lengths) -> dict:
    """Equilibration evidence from the sampling at T_p cut into EQ_BLOCKS consecutive blocks.

    block_means: mean U/N (epsilon) per block, NaN for an empty block; block_lengths: steps or
    sweeps per block.  Returns ``eq_energy_series`` float64 (EQ_BLOCKS,) and
    ``eq_energy_halves`` float64 (2,): the length-weighted mean over the third and the fourth
    quarter (the first half is burn-in), equal within errors once the run is stationary.
    """
    means = np.asarray(block_means, dtype=np.float64)
    w = np.asarray(block_lengths, dtype=np.float64)
    filled = np.where(w > 0, means, 0.0)
    q = EQ_BLOCKS // 4
    halves = [np.average(filled[a:a + q], weights=w[a:a + q]) if w[a:a + q].sum() else np.nan
              for a in (2 * q, 3 * q)]
    return {"eq_energy_series": means, "eq_energy_halves": np.array(halves)}


# Overlaps of random initial positions are first relaxed to this max force, so MD starts stable.
_MELT_FTOL = 1.0


def run_glass(task: Task, root_seed: int) -> dict:
    """One glass sample: random start, equilibration at T_p (NVT MD; swap Monte Carlo for POLY),
    optional linear quench, FIRE, harmonic analysis.

    Returns scalars (energy per particle, pressure, residual force, FIRE steps, MD averages,
    moduli), the quenched configuration, and per-pair arrays (kappa, f, pair indices) plus
    the lowest modes when asked.
    """
    from .kernels.forces import VerletList, energy_forces, pair_terms
    from .models import make_model
    from .sampling.md import default_dt, linear_quench, maxwell_velocities, run_nvt
    from .sampling.minimize import fire
    from .sampling.swap_mc import swap_mc

    ens = task.ensemble
    rng = task.rng(root_seed)
    model = make_model(ens.model, ens.d, ens.N, ens.density, rng)
    N, d, L = model.N, model.d, model.L
    vl = VerletList(model)
    x = fire(rng.random((N, d)) * L, L, vl.force, ftol=_MELT_FTOL).x
    dt = ens.dt or default_dt(ens.T_p)
    if model.poly:
        mc = swap_mc(x, model, ens.T_p, int(round(ens.equilibration)), rng)
        model = model.with_sizes(mc.sizes)
        vl = VerletList(model)
        x, v = mc.x, maxwell_velocities(N, d, ens.T_p, rng)
        blocks = np.array_split(mc.energy[mc.tune:], EQ_BLOCKS)
        eq = equilibration_record([b.mean() if b.size else np.nan for b in blocks], [b.size for b in blocks])
        eq |= {"mc_acc_displacement": np.float64(mc.acc_displacement), "mc_acc_swap": np.float64(mc.acc_swap),
              "mc_delta": np.float64(mc.delta)}
    else:
        steps = int(round(ens.equilibration / dt))
        v = maxwell_velocities(N, d, ens.T_p, rng)
        lengths = [steps // EQ_BLOCKS + (k < steps % EQ_BLOCKS) for k in range(EQ_BLOCKS)]  # as np.array_split
        U_means, T_means = [], []
        for n in lengths:
            r = run_nvt(x, v, L, vl.force, dt, n, ens.T_p, rng)
            x, v = r.x, r.v
            U_means.append(r.U_mean if n else np.nan)
            T_means.append(r.T_mean)
        eq = equilibration_record(U_means, lengths)
        late = lengths[EQ_BLOCKS // 2:]
        eq["md_T_mean"] = np.float64(np.average(T_means[EQ_BLOCKS // 2:], weights=late) if sum(late) else np.nan)
    if ens.protocol == "continuous":
        steps = int(np.ceil(ens.T_p / ens.quench_rate / dt))
        x = run_nvt(x, v, L, vl.force, dt, steps, linear_quench(ens.T_p, ens.quench_rate), rng).x
    quench = fire(x, L, vl.force, ftol=ens.ftol)
    U, F, p = energy_forces(quench.x, model)
    pairs = pair_terms(quench.x, model)
    out = {
        "energy": np.float64(U / N), "pressure": np.float64(p), "max_force": np.float64(np.abs(F).max()),
        "fire_steps": np.int64(quench.steps), **eq, "n_pairs_interacting": np.int64(len(pairs)),
        "position": quench.x, "species": model.species, "diameter": model.sizes, "box": np.float64(L),
    }
    out.update(harmonic_stage(pairs, N, model.volume, ens, rng))
    return out


def _reference_shape(ens) -> tuple[int, int]:
    """(N, d) every file of an analyse ensemble must have: the ensemble's N and d, where 0 means
    the first file's (the same on every rank: the run file stacks per-sample arrays)."""
    from .configio import ConfigurationError, read_configuration

    N, d = ens.N, ens.d
    if not (N and d):
        try:
            first = read_configuration(ens.files[0], ens.model, ens.format, ens.d)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{exc} (the first file sets N and d of the ensemble: "
                                     "set N and d in the input)") from None
        N, d = N or first.N, d or first.d
    return N, d


def run_analyse(task: Task, root_seed: int) -> dict:
    """One configuration file: read it, check it against the model, re-minimise it exactly with
    FIRE (to ``ftol``), then the glass task's harmonic stage.  The fields are those of a glass
    sample without the sampling ones, plus ``energy_input`` (U/N of the file's configuration before
    the polish) and ``polish_displacement`` (largest displacement of a particle by the polish)."""
    from .configio import ConfigurationError, check_configuration, model_for, read_configuration, wrap_box
    from .kernels.forces import VerletList, energy_forces, pair_terms
    from .sampling.minimize import fire

    ens = task.ensemble
    path = ens.files[task.part]
    N, d = _reference_shape(ens)
    conf = read_configuration(path, ens.model, ens.format, d)
    if conf.N != N:
        raise ConfigurationError(f"{path}: wrong atom count: {conf.N} atoms, the ensemble has N = {N}")
    if conf.d != d:
        raise ConfigurationError(f"{path}: dimension {conf.d}, the ensemble has d = {d}")
    if d not in MODEL_DIMENSIONS[ens.model]:
        raise ConfigurationError(f"{path}: model {ens.model} is not defined in d = {d}")
    model = model_for(conf, ens.model)
    check_configuration(path, conf, model, N, d)
    rng = task.rng(root_seed)
    x0 = wrap_box(conf.x, model.L)
    U0 = energy_forces(x0, model)[0]
    quench = fire(x0, model.L, VerletList(model).force, ftol=ens.ftol)
    U, F, p = energy_forces(quench.x, model)
    dx = quench.x - x0
    dx -= model.L * np.round(dx / model.L)
    pairs = pair_terms(quench.x, model)
    out = {
        "energy": np.float64(U / N), "energy_input": np.float64(U0 / N), "pressure": np.float64(p),
        "max_force": np.float64(np.abs(F).max()), "fire_steps": np.int64(quench.steps),
        "polish_displacement": np.float64(np.sqrt((dx * dx).sum(axis=1)).max()),
        "n_pairs_interacting": np.int64(len(pairs)),
        "position": quench.x, "species": model.species, "diameter": model.sizes, "box": np.float64(model.L),
    }
    out.update(harmonic_stage(pairs, N, model.volume, ens, rng))
    return out


# Lowest non-zero Hessian eigenvalues every glass task stores, whatever ``modes`` asks.
N_LOW_MODES = 3
# An eigenvalue at or below this fraction of the mean diagonal Hessian entry counts as
# non-positive (an unstable sample: a saddle, or a zero mode beyond translations and rattlers).
STABILITY_RTOL = 1e-9


def stability_record(eigenvalues, participation, diag_mean: float) -> dict:
    """The per-sample stability diagnostics from the lowest non-zero eigenvalues (ascending).

    Returns ``lambda_low`` and ``participation_low`` float64 (N_LOW_MODES,) (NaN-padded when the
    system has fewer modes) and ``unstable`` int64: how many of them are <= STABILITY_RTOL times
    ``diag_mean`` (the mean diagonal entry of the Hessian [energy/length^2]).
    """
    lam = np.full(N_LOW_MODES, np.nan)
    part = np.full(N_LOW_MODES, np.nan)
    k = min(N_LOW_MODES, len(eigenvalues))
    lam[:k], part[:k] = eigenvalues[:k], participation[:k]
    return {"lambda_low": lam, "participation_low": part,
            "unstable": np.int64(np.count_nonzero(lam[:k] <= STABILITY_RTOL * diag_mean))}


def harmonic_stage(pairs, N: int, volume: float, ens, rng, comm=None, memory: bool = False) -> dict:
    """Harmonic analysis of one configuration (its interacting ``pairs``): stability diagnostics,
    shear modulus, dipole stiffnesses of the selected pairs, response fields and lowest modes as
    the ensemble ``ens`` asks.  ``rng`` draws the random pairs.

    The lowest modes come first: an unstable sample (``unstable`` > 0) is factored by LDL^T
    instead of Cholesky, so its kappa and G are still computed and recorded, with the flag beside
    them.  ``n_kappa_bad`` counts the selected pairs whose kappa is <= 0 or not finite.

    ``comm``: the PETSc communicator of the team of ranks sharing this sample (default COMM_SELF).
    Every rank of the team calls this with the same ``pairs`` and the same ``rng`` state; the
    matrices are distributed by rows, and every rank returns the same dict (team rank 0's, sent
    to the others).  ``memory=True`` adds ``mem_peak_rank_mb``, ``factor_mem_mb`` and
    ``factor_mem_total_mb`` (:func:`hpcglass.harmonic.memory.memory_record`); they vary from run
    to run, so they are off by default (results must not depend on the run).
    """
    from .harmonic import HarmonicSystem, dipole_stiffness, elastic_moduli, lowest_modes, rattler_pairs, select_pairs
    from .harmonic.hessian import hessian_diagonal
    from .harmonic.memory import memory_record

    d = pairs.dim
    m = lowest_modes(pairs, N, k=max(ens.modes, N_LOW_MODES), vectors=ens.mode_vectors > 0, comm=comm)
    if comm is not None and comm.getSize() > 1:  # the team takes one branch (spd below) together
        m = comm.tompi4py().bcast(m, root=0)
    out = stability_record(m.eigenvalues, m.participation, float(hessian_diagonal(pairs, N).mean()))
    if ens.modes:
        out.update(eigenvalues=m.eigenvalues[:ens.modes], participation=m.participation[:ens.modes])
        if ens.mode_vectors:
            out["mode_vector"] = m.vectors[:ens.mode_vectors]
    mode = "all" if ens.pairs == "random" and ens.n_pairs == 0 else ens.pairs
    with HarmonicSystem(pairs, N, volume, comm=comm, spd=not out["unstable"]) as hs:
        out["n_rattlers"] = np.int64(hs.n_rattlers)
        if ens.shear_modulus:
            el = elastic_moduli(hs)
            for name in ("G", "born", "nonaffine", "B", "sigma_yy"):
                out[name] = np.float64(getattr(el, name))
        which = select_pairs(pairs, mode, n=ens.n_pairs or None, rng=rng, fmax=ens.f_max, exclude=rattler_pairs(hs))
        dip = dipole_stiffness(hs, which, n_fields=ens.fields)
        if memory:
            out.update(memory_record(hs.factor_info(), comm))
    out.update(kappa=dip.kappa, f=dip.f, pair_i=dip.i, pair_j=dip.j,
               n_kappa_bad=np.int64(np.count_nonzero(~(np.isfinite(dip.kappa) & (dip.kappa > 0)))))
    if ens.fields:
        # fixed shape per ensemble: a sample with fewer selected pairs gets NaN fields and -1 pairs
        z = np.full((ens.fields, N, d), np.nan)
        pz = np.full((ens.fields, 2), -1, dtype=np.int64)
        k = 0 if dip.z is None else dip.z.shape[0]
        if k:
            z[:k] = dip.z
            pz[:k] = np.stack([dip.i[:k], dip.j[:k]], axis=1)
        out.update(response_field=z, response_pair=pz)
    if comm is not None and comm.getSize() > 1:  # one answer per team, whatever the last bits
        out = comm.tompi4py().bcast(out, root=0)
    return out


KINDS: dict[str, KindLayout] = {
    "lattice": KindLayout(
        run=run_lattice,
        ragged=frozenset({"kappa"}),
        constants=lambda ens: {"hist_edges": lattice_hist_edges(ens)},
    ),
    "glass": KindLayout(
        run=run_glass,
        ragged=frozenset({"kappa", "f", "pair_i", "pair_j"}),
        constants=lambda ens: {},
        h5md=("position", "species", "diameter"),
    ),
    "analyse": KindLayout(
        run=run_analyse,
        ragged=frozenset({"kappa", "f", "pair_i", "pair_j"}),
        constants=lambda ens: {},
        h5md=("position", "species", "diameter"),
    ),
}


def run_task(task: Task, root_seed: int) -> dict:
    """Execute one task; exceptions propagate to the driver, which records them as failures."""
    fields = KINDS[task.kind].run(task, root_seed)
    return {k: np.asarray(v) for k, v in fields.items()}
