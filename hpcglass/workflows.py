"""What a lattice task and an analyse task do, and the harmonic stage they share with the glass
task (hpcglass.glass).

A workflow returns a dict of numpy arrays.  How they are laid out (which fields are ragged, the
shape of every other field, per-ensemble constants) is declared by the kind in hpcglass.kinds,
which checks every result against it when the task returns.
"""

from __future__ import annotations

import numpy as np

from .models import MODELS
from .tasks import Task


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


def run_analyse(task: Task, root_seed: int, comm=None) -> dict:
    """One configuration file: read it, check it against the model, re-minimise it exactly with
    FIRE (to ``ftol``), then the glass task's harmonic stage.  The fields are those of a glass
    sample without the sampling ones, plus ``energy_input`` (U/N of the file's configuration before
    the polish) and ``polish_displacement`` (largest displacement of a particle by the polish).
    ``comm``: the task's team (mpi4py) for the harmonic stage, or None."""
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
    if d not in MODELS[ens.model].dimensions:
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
    out.update(harmonic_stage(pairs, N, model.volume, ens, rng, comm=petsc_comm(comm),
                              memory=comm is not None and comm.Get_size() > 1))
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


def petsc_comm(team):
    """The PETSc communicator of a task's team (an mpi4py communicator), or None for one rank."""
    if team is None:
        return None
    from petsc4py import PETSc

    return PETSc.Comm(team)


def harmonic_stage(pairs, N: int, volume: float, ens, rng, comm=None, memory: bool = False) -> dict:
    """Harmonic analysis of one configuration (its interacting ``pairs``): stability diagnostics,
    shear modulus, dipole stiffnesses of the selected pairs, response fields and lowest modes as
    the ensemble ``ens`` asks.  ``rng`` draws the random pairs.  ``comm``: the PETSc communicator
    of the task's team (every team rank calls this with the same inputs and gets the same
    outputs), default PETSc.COMM_SELF.

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

