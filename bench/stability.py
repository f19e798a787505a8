"""Benchmark: the cost of the stability record every glass task now stores (3 lowest non-zero
Hessian eigenvalues by SLEPc shift-invert) against the rest of the harmonic stage, on the
configurations of a run file (default: the POLY 3D N = 2000 evidence run).

    .venv/bin/python bench/stability.py runs/evidence/fig4_poly3d_N2000.h5 --samples 4

Per sample, one process, one thread: A. lowest_modes(k=3); B. the rest of harmonic_stage
(factorisation, G, 2000 random dipoles).  Prints each and the ratio A / (A + B).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import h5py  # noqa: E402
import numpy as np  # noqa: E402

from hpcglass.harmonic import lowest_modes  # noqa: E402
from hpcglass.kernels.forces import pair_terms  # noqa: E402
from hpcglass.models import make_model  # noqa: E402
from hpcglass.workflows import N_LOW_MODES, harmonic_stage  # noqa: E402


class _Ens:  # the fields of a glass ensemble harmonic_stage reads
    def __init__(self, p, modes=0):
        self.modes, self.mode_vectors, self.fields = modes, 0, 0
        self.pairs, self.n_pairs, self.f_max = p["pairs"], p["n_pairs"], p["f_max"]
        self.shear_modulus = p["shear_modulus"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", nargs="?", default="runs/evidence/fig4_poly3d_N2000.h5")
    ap.add_argument("--samples", type=int, default=4)
    a = ap.parse_args()
    with h5py.File(a.run, "r") as h5:
        name, g = next(iter(h5["ensembles"].items()))
        p = json.loads(g.attrs["params"])
        X, D, L = g["position"][:a.samples], g["diameter"][:a.samples], g["box"][:a.samples]
    ens = _Ens(p)
    t_modes, t_stage = [], []
    for x, sizes, box in zip(X, D, L):
        model = make_model(p["model"], p["d"], p["N"], p["density"] or 0.0, np.random.default_rng(0))
        model = model.with_sizes(sizes) if model.poly else model
        pairs = pair_terms(x, model)
        t0 = time.perf_counter()
        lowest_modes(pairs, model.N, k=N_LOW_MODES)
        t1 = time.perf_counter()
        harmonic_stage(pairs, model.N, model.volume, ens, np.random.default_rng(1))
        t2 = time.perf_counter()
        t_modes.append(t1 - t0)
        t_stage.append((t2 - t1) - (t1 - t0))  # harmonic_stage includes the same mode solve
    tm, ts = np.median(t_modes), np.median(t_stage)
    print(f"{name}: {p['model']} {p['d']}D N={p['N']}, {len(t_modes)} samples (medians)")
    print(f"  A. 3 lowest modes (SLEPc shift-invert, MUMPS): {tm:.3f} s")
    print(f"  B. rest of the harmonic stage (G, {p['n_pairs'] or 'all'} dipoles): {ts:.3f} s")
    print(f"  A / (A + B) = {tm / (tm + ts):.2f}")


if __name__ == "__main__":
    main()
