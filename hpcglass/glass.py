"""The glass task, stage by stage: melt, equilibrate, quench, minimise, harmonic, pack.

Each stage is a function of the previous stage's state and the random streams it is given (its
own children of the task's SeedSequence, ``GLASS_STREAMS``); ``run_glass`` chains them.  Units are the model's (lengths in its sigma, energies in epsilon,
time in tau = sigma sqrt(m/epsilon), temperatures in epsilon/k_B).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tasks import Task
from .workflows import EQ_BLOCKS, equilibration_record, harmonic_stage, petsc_comm

# The random streams of a glass task, in spawn order (docs/output.md, "Random streams"): stream k
# is SeedSequence(root_seed, spawn_key=(task index, k)).  Append new stages; never reorder.
GLASS_STREAMS = ("sizes", "melt", "equilibrate", "velocities", "quench", "pairs")

# Overlaps of random initial positions are first relaxed to this max force, so MD starts stable.
_MELT_FTOL = 1.0


@dataclass
class State:
    """The sample between stages: the model (POLY: with its current sizes), its Verlet list,
    positions x (N, d) and velocities v (N, d) or None, and the equilibration record."""

    model: object
    vl: object
    x: np.ndarray
    v: np.ndarray | None = None
    eq: dict | None = None


def melt(ens, rng_sizes, rng_melt) -> State:
    """The model (POLY sizes drawn from ``rng_sizes``) and random positions in its box, relaxed by
    FIRE to max|F| < _MELT_FTOL so that the dynamics start without overlaps."""
    from .kernels.forces import VerletList
    from .models import make_model
    from .sampling.minimize import fire

    model = make_model(ens.model, ens.d, ens.N, ens.density, rng_sizes)
    vl = VerletList(model)
    x = fire(rng_melt.random((model.N, model.d)) * model.L, model.L, vl.force, ftol=_MELT_FTOL).x
    return State(model, vl, x)


def time_step(ens) -> float:
    """MD time step (tau): the input's ``dt`` or the default for T_p."""
    from .sampling.md import default_dt

    return ens.dt or default_dt(ens.T_p)


def equilibrate(state: State, ens, rng_eq, rng_velocities) -> State:
    """Sampling at T_p: swap Monte Carlo for POLY (``equilibration`` sweeps; the sizes move, so
    the model and Verlet list are rebuilt), NVT MD otherwise (``equilibration`` tau).  Velocities
    at T_p come from ``rng_velocities``; sweeps, moves and thermostat noise from ``rng_eq``.
    Sets ``state.eq`` (equilibration_record plus acceptance or mean temperature)."""
    if state.model.poly:
        return _equilibrate_swap_mc(state, ens, rng_eq, rng_velocities)
    return _equilibrate_md(state, ens, rng_eq, rng_velocities)


def _equilibrate_swap_mc(state: State, ens, rng_eq, rng_velocities) -> State:
    from .kernels.forces import VerletList
    from .sampling.md import maxwell_velocities
    from .sampling.swap_mc import swap_mc

    mc = swap_mc(state.x, state.model, ens.T_p, int(round(ens.equilibration)), rng_eq)
    model = state.model.with_sizes(mc.sizes)
    v = maxwell_velocities(model.N, model.d, ens.T_p, rng_velocities)
    blocks = np.array_split(mc.energy[mc.tune:], EQ_BLOCKS)
    eq = equilibration_record([b.mean() if b.size else np.nan for b in blocks], [b.size for b in blocks])
    eq |= {"mc_acc_displacement": np.float64(mc.acc_displacement), "mc_acc_swap": np.float64(mc.acc_swap),
           "mc_delta": np.float64(mc.delta)}
    return State(model, VerletList(model), mc.x, v, eq)


def _equilibrate_md(state: State, ens, rng_eq, rng_velocities) -> State:
    from .sampling.md import maxwell_velocities, run_nvt

    model, dt = state.model, time_step(ens)
    steps = int(round(ens.equilibration / dt))
    x, v = state.x, maxwell_velocities(model.N, model.d, ens.T_p, rng_velocities)
    lengths = [steps // EQ_BLOCKS + (k < steps % EQ_BLOCKS) for k in range(EQ_BLOCKS)]  # as np.array_split
    U_means, T_means = [], []
    for n in lengths:
        r = run_nvt(x, v, model.L, state.vl.force, dt, n, ens.T_p, rng_eq)
        x, v = r.x, r.v
        U_means.append(r.U_mean if n else np.nan)
        T_means.append(r.T_mean)
    eq = equilibration_record(U_means, lengths)
    late = lengths[EQ_BLOCKS // 2:]
    eq["md_T_mean"] = np.float64(np.average(T_means[EQ_BLOCKS // 2:], weights=late) if sum(late) else np.nan)
    return State(model, state.vl, x, v, eq)


def equilibrate_and_quench_lammps(state: State, ens, rng_velocities, comm) -> State:
    """``engine: lammps``: NVT at T_p and (continuous protocol) the linear quench in LAMMPS on the
    team's communicator (hpcglass.sampling.lammps_engine, tabulated from the model's own pair
    potential); the Maxwell velocity seed comes from ``rng_velocities``.  Every team rank gets the
    same positions back.  Sets ``state.eq`` like the numba MD, plus the table's measured errors."""
    from .sampling.lammps_engine import lammps_equilibrate_quench

    dt = time_step(ens)
    rate = ens.quench_rate if ens.protocol == "continuous" else None
    x, rec = lammps_equilibrate_quench(state.x, state.model, ens.T_p, dt, int(round(ens.equilibration / dt)), rate,
                                       seed=int(rng_velocities.integers(1, 2**31 - 1)), comm=comm,
                                       n_blocks=EQ_BLOCKS)
    eq = equilibration_record(rec["eq_block_U"], rec["eq_block_steps"])
    # the late half's non-empty blocks (an empty block's T is NaN)
    late = np.asarray(rec["eq_block_steps"])[EQ_BLOCKS // 2:]
    full = late > 0
    eq["md_T_mean"] = np.float64(np.average(np.asarray(rec["eq_block_T"])[EQ_BLOCKS // 2:][full], weights=late[full])
                                 if full.any() else np.nan)
    eq |= {"lammps_table_force_error": np.float64(rec["table_force_error"]),
           "lammps_table_energy_error": np.float64(rec["table_energy_error"])}
    return State(state.model, state.vl, x, None, eq)


def quench(state: State, ens, rng_quench) -> State:
    """``protocol: continuous``: NVT MD cooling linearly from T_p to 0 at ``quench_rate``
    (thermostat noise from ``rng_quench``); ``instantaneous``: nothing (FIRE starts at T_p)."""
    if ens.protocol != "continuous":
        return state
    from .sampling.md import linear_quench, run_nvt

    dt = time_step(ens)
    steps = int(np.ceil(ens.T_p / ens.quench_rate / dt))
    x = run_nvt(state.x, state.v, state.model.L, state.vl.force, dt, steps,
                linear_quench(ens.T_p, ens.quench_rate), rng_quench).x
    return State(state.model, state.vl, x, None, state.eq)


def minimise(state: State, ens):
    """FIRE to max|F| < ftol; returns (the FIRE result, U, F, p at its minimum, pair terms)."""
    from .kernels.forces import energy_forces, pair_terms
    from .sampling.minimize import fire

    q = fire(state.x, state.model.L, state.vl.force, ftol=ens.ftol)
    U, F, p = energy_forces(q.x, state.model)
    return q, U, F, p, pair_terms(q.x, state.model)


def pack(state: State, minimum) -> dict:
    """The task's scalar and configuration fields (energy per particle, pressure, residual
    force, FIRE steps, equilibration record, quenched positions, species, sizes, box side)."""
    q, U, F, p, pairs = minimum
    model = state.model
    return {
        "energy": np.float64(U / model.N), "pressure": np.float64(p), "max_force": np.float64(np.abs(F).max()),
        "fire_steps": np.int64(q.steps), **state.eq, "n_pairs_interacting": np.int64(len(pairs)),
        "position": q.x, "species": model.species, "diameter": model.sizes, "box": np.float64(model.L),
    }


def run_glass(task: Task, root_seed: int, comm=None) -> dict:
    """One glass sample: melt, equilibrate at T_p, quench, minimise, harmonic analysis, pack.

    ``comm``: the task's team communicator (mpi4py) for the harmonic stage, or None for one
    rank; every team rank runs the other stages identically.  Returns the fields declared by
    the glass kind (hpcglass.kinds).
    """
    ens = task.ensemble
    rng = task.stage_rngs(root_seed, GLASS_STREAMS)
    state = melt(ens, rng["sizes"], rng["melt"])
    if getattr(ens, "engine", "numba") == "lammps":
        state = equilibrate_and_quench_lammps(state, ens, rng["velocities"], comm)
    else:
        state = equilibrate(state, ens, rng["equilibrate"], rng["velocities"])
        state = quench(state, ens, rng["quench"])
    minimum = minimise(state, ens)
    out = pack(state, minimum)
    # per-rank memory is recorded for teams, where it is the figure that sizes a job; it varies
    # from run to run, so one-rank runs stay bitwise reproducible without it
    team = comm is not None and comm.Get_size() > 1
    out.update(harmonic_stage(minimum[4], state.model.N, state.model.volume, ens, rng["pairs"],
                              comm=petsc_comm(comm), memory=team))
    return out
