"""Force-dipole responses and dipole stiffness kappa (Eqs. 1-3 of the paper).

For a pair (i, j) the unit force dipole is d_i = n, d_j = -n with n = r_ij / r (zero elsewhere);
the response is z = M^+ d (translation-free), and

    kappa = (d . z) / (z . z)        [energy / length^2]

kappa is invariant under d -> c d for any c != 0, so the unit dipole gives the same kappa as the
physical dipole phi'(r) (n, -n) of Eq. 1.  The pair force f = -phi'(r) is returned separately
for the filter f < 1e-3 used in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpcglass.pairs import PairTerms

from .system import HarmonicSystem


@dataclass(frozen=True)
class DipoleResult:
    """kappa per selected pair.

    pair_index : int64 (k,)   index into the original PairTerms
    i, j       : int64 (k,)   particle indices (original numbering)
    kappa      : float64 (k,) dipole stiffness [energy / length^2]
    f          : float64 (k,) pair force -phi'(r) [energy / length]
    z          : float64 (m, N, d) or None; full response fields of the first m selected pairs,
                 zero on rattlers, zero mean displacement per component [length^3 / energy]
    n_rattlers : rattlers removed from the system
    """

    pair_index: np.ndarray
    i: np.ndarray
    j: np.ndarray
    kappa: np.ndarray
    f: np.ndarray
    z: np.ndarray | None
    n_rattlers: int


def select_pairs(pairs: PairTerms, mode: str = "all", n: int | None = None, rng=None,
                 fmax: float = 1e-3, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices (sorted int64) of selected pairs.

    mode  : "all" | "random" (``n`` distinct pairs drawn with ``rng``, a numpy Generator or seed)
            | "threshold" (pairs with f = -phi' < ``fmax``)
    exclude : bool (P,) pairs never to select (e.g. pairs touching a rattler)
    """
    P = len(pairs)
    ok = np.ones(P, dtype=bool) if exclude is None else ~np.asarray(exclude, dtype=bool)
    if mode == "all":
        idx = np.flatnonzero(ok)
    elif mode == "threshold":
        idx = np.flatnonzero(ok & (-pairs.dphi < fmax))
    elif mode == "random":
        if n is None:
            raise ValueError("mode='random' needs n")
        rng = np.random.default_rng(rng)
        cand = np.flatnonzero(ok)
        idx = np.sort(rng.choice(cand, size=min(int(n), cand.size), replace=False))
    else:
        raise ValueError(f"unknown pair selection mode {mode!r}")
    return idx.astype(np.int64)


def unit_dipoles(pairs: PairTerms, n_particles: int, which: np.ndarray) -> np.ndarray:
    """Unit dipoles as columns, float64 (n_particles d, k): column c has n on i, -n on j."""
    d = pairs.dim
    which = np.asarray(which, dtype=np.int64)
    k = which.size
    D = np.zeros((n_particles * d, k))
    nvec = pairs.rij[which] / pairs.r[which, None]
    cols = np.arange(k)
    for s in range(d):
        D[pairs.i[which] * d + s, cols] = nvec[:, s]
        D[pairs.j[which] * d + s, cols] = -nvec[:, s]
    return D


def kappa_from_responses(D: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """kappa = (d . z) / (z . z) column by column; Z must be translation-free."""
    return np.einsum("ik,ik->k", D, Z) / np.einsum("ik,ik->k", Z, Z)


def dipole_stiffness(system: HarmonicSystem, which: np.ndarray | None = None, block: int = 256,
                     n_fields: int = 0) -> DipoleResult:
    """kappa for the pairs ``which`` (indices into ``system.pairs_full``; default: all pairs not
    touching a rattler), from the system's single factorization, ``block`` right-hand sides per
    MatMatSolve.  ``n_fields`` full z fields (first selected pairs) are returned in ``z``.
    """
    res = system.restriction
    full = system.pairs_full
    # map original pair index -> restricted pair index
    pos = -np.ones(len(full), dtype=np.int64)
    pos[res.pair_index] = np.arange(res.pair_index.size)
    if which is None:
        which = res.pair_index
    which = np.asarray(which, dtype=np.int64)
    sub = pos[which]
    if np.any(sub < 0):
        raise ValueError("selected pairs touch a rattler; select with exclude=rattler_pairs(system)")
    kappa = np.empty(which.size)
    fields = []
    for s in range(0, which.size, block):
        D = unit_dipoles(res.pairs, system.n_active, sub[s:s + block])
        Z = system.solve(D, block=block)
        kappa[s:s + block] = kappa_from_responses(D, Z)
        need = n_fields - sum(f.shape[1] for f in fields)
        if need > 0:
            fields.append(Z[:, :need])
    z = None
    if n_fields > 0:
        Zs = np.concatenate(fields, axis=1)
        z = system.to_full(Zs).T.reshape(-1, system.N, system.d)
    return DipoleResult(pair_index=which, i=full.i[which], j=full.j[which], kappa=kappa,
                        f=-full.dphi[which], z=z, n_rattlers=system.n_rattlers)


def rattler_pairs(system: HarmonicSystem) -> np.ndarray:
    """bool (P,) pairs of ``system.pairs_full`` that touch a rattler."""
    p = system.pairs_full
    return system.rattlers[p.i] | system.rattlers[p.j]


def kappa_pairs(pairs: PairTerms, N: int, V: float, mode: str = "threshold", n: int | None = None,
                rng=None, fmax: float = 1e-3, comm=None, prefix: str = "dipole_",
                method: str = "direct", block: int = 256, n_fields: int = 0) -> DipoleResult:
    """Convenience: build the system, select pairs, compute kappa, destroy the PETSc objects."""
    with HarmonicSystem(pairs, N, V, comm=comm, prefix=prefix, method=method) as system:
        which = select_pairs(pairs, mode=mode, n=n, rng=rng, fmax=fmax, exclude=rattler_pairs(system))
        return dipole_stiffness(system, which, block=block, n_fields=n_fields)
