"""The harmonic stage on a team of ranks (issue 17): the Hessian built and inserted by rows, MUMPS
factoring in distributed memory, SLEPc and G on the team's communicator.

* serial: the row builder and the diagonal equal hessian_csr bitwise; the team-of-one numbers of
  harmonic_stage equal dense numpy (pinv, eigh) on a small 3D glass;
* ``mpirun -n 2``: a team of two (COMM_WORLD) gives the kappa, G, B and lowest eigenvalues of a
  team of one (COMM_SELF, on the same ranks) to 1e-10 relative on a FIRE-minimised 3D IPL glass
  (N = 600), every rank of the team returns the same numbers, and each rank builds only its own
  rows (about half), which together are the whole pinned matrix.
"""

import json
import shutil
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from hpcglass.harmonic import HarmonicSystem
from hpcglass.harmonic.hessian import block_range, hessian_csr, hessian_diagonal, hessian_rows
from hpcglass.kernels.forces import VerletList, pair_terms
from hpcglass.models import make_model
from hpcglass.sampling.minimize import fire
from hpcglass.workflows import harmonic_stage

from mpi_helpers import ROOT, mpi_env

ENS = SimpleNamespace(modes=6, mode_vectors=0, pairs="random", n_pairs=80, f_max=1e-3, shear_modulus=True,
                      fields=1)


def ipl3d_glass(N, seed):
    """FIRE-minimised 3D IPL glass from random positions (instantaneous quench): model, pairs."""
    rng = np.random.default_rng(seed)
    model = make_model("ipl", 3, N, rng=rng)
    x = fire(rng.random((N, 3)) * model.L, model.L, VerletList(model).force, ftol=1e-10).x
    return model, pair_terms(x, model)


def test_rows_and_diagonal_equal_hessian_csr_bitwise():
    model, pairs = ipl3d_glass(200, 3)
    full = hessian_csr(pairs, model.N)
    for size in (1, 2, 3, 7):
        parts = [hessian_rows(pairs, model.N, *block_range(model.N, size, r)) for r in range(size)]
        assert sum(p.shape[0] for p in parts) == full.shape[0]
        for r, p in enumerate(parts):
            s0, s1 = block_range(model.N, size, r)
            ref = full[3 * s0:3 * s1]
            assert np.array_equal(p.indptr, ref.indptr) and np.array_equal(p.indices, ref.indices)
            assert np.array_equal(p.data, ref.data)  # same numbers summed in the same order
    assert np.array_equal(hessian_diagonal(pairs, model.N), full.diagonal())


def test_team_of_one_matches_dense_numpy():
    model, pairs = ipl3d_glass(64, 11)
    N, d = model.N, 3
    out = harmonic_stage(pairs, N, model.volume, ENS, np.random.default_rng(0), memory=True)
    assert out["n_rattlers"] == 0
    M = hessian_csr(pairs, N).toarray()
    w, v = np.linalg.eigh(M)
    T = np.zeros((N * d, d))
    for c in range(d):
        T[c::d, c] = 1.0 / np.sqrt(N)
    trans = np.linalg.norm(T.T @ v, axis=0) > 0.5
    assert trans.sum() == d
    np.testing.assert_allclose(out["eigenvalues"], w[~trans][:ENS.modes], rtol=1e-8)
    Mp = np.linalg.pinv(M, rcond=1e-10, hermitian=True)
    for k, (i, j) in enumerate(zip(out["pair_i"], out["pair_j"])):
        p = np.flatnonzero((pairs.i == i) & (pairs.j == j))[0]
        dip = np.zeros(N * d)
        n = pairs.rij[p] / pairs.r[p]
        dip[3 * i:3 * i + 3], dip[3 * j:3 * j + 3] = n, -n
        z = Mp @ dip
        assert abs(out["kappa"][k] / ((dip @ z) / (z @ z)) - 1) < 1e-8
    from hpcglass.harmonic.elasticity import born_shear, shear_xi
    xi = shear_xi(pairs, N)
    G = (born_shear(pairs) - xi @ Mp @ xi) / model.volume
    assert abs(out["G"] / G - 1) < 1e-8
    # memory figures: this process's peak RSS and MUMPS's own count, both positive
    assert out["mem_peak_rank_mb"] > 10 and 0 < out["factor_mem_mb"] <= out["factor_mem_total_mb"]


_SCRIPT = r"""
import json, sys
sys.path.insert(0, {tests!r})
import numpy as np
from hpcglass.harmonic import HarmonicSystem
from hpcglass.petsc_setup import petsc
from hpcglass.workflows import harmonic_stage
from test_harmonic_team import ENS, ipl3d_glass
PETSc = petsc()
world = PETSc.COMM_WORLD
mpi = world.tompi4py()
model, pairs = ipl3d_glass({N}, {seed})
one = harmonic_stage(pairs, model.N, model.volume, ENS, np.random.default_rng(4), comm=PETSc.COMM_SELF, memory=True)
two = harmonic_stage(pairs, model.N, model.volume, ENS, np.random.default_rng(4), comm=world, memory=True)
with HarmonicSystem(pairs, model.N, model.volume, comm=world) as hs:
    hs.setup()
    mine = hs._pinned_rows()
    rows = dict(pinned_local=mine.shape[0], pinned_nnz=int(mine.nnz), mat_local=hs._mat.getLocalSize()[0],
                mat_rows=hs._mat.getSize()[0], full_local=hs.M_local.shape[0])
    parts = mpi.gather(mine, root=0)
    full_rows = hs.M_csr[hs.keep][:, hs.keep] if mpi.rank == 0 else None
    x = np.random.default_rng(1).standard_normal(hs.n_active * 3)
    mv = float(np.max(np.abs(hs.matvec(x) - hs.M_csr @ x)))
    rows["matvec_err"] = mv
if mpi.rank == 0:
    import scipy.sparse as sp
    stacked = sp.vstack(parts).tocsr()
    rows["rows_equal"] = bool(np.array_equal(stacked.indptr, full_rows.indptr) and
                              np.array_equal(stacked.indices, full_rows.indices) and
                              np.array_equal(stacked.data, full_rows.data))
    rows["total_nnz"] = int(full_rows.nnz)
keys = ("kappa", "G", "B", "born", "nonaffine", "eigenvalues", "lambda_low", "participation", "response_field")
ref = [mpi.bcast(two[k], root=0) for k in keys]  # every rank takes part in every bcast
allsame = all(np.array_equal(np.asarray(two[k]), np.asarray(r), equal_nan=True) for k, r in zip(keys, ref))
rel = {{k: float(np.max(np.abs(np.asarray(two[k]) / np.asarray(one[k]) - 1))) for k in keys
       if k != "response_field"}}
zf = float(np.max(np.abs(two["response_field"] - one["response_field"])) / np.max(np.abs(one["response_field"])))
rep = dict(rank=mpi.rank, rel=rel, zrel=zf, same_pairs=bool(np.array_equal(one["pair_i"], two["pair_i"])),
           allsame=allsame,
           mem=[float(two["mem_peak_rank_mb"]), float(two["factor_mem_mb"]), float(two["factor_mem_total_mb"])],
           mem1=[float(one["mem_peak_rank_mb"]), float(one["factor_mem_mb"]), float(one["factor_mem_total_mb"])],
           unstable=int(two["unstable"]), rattlers=int(two["n_rattlers"]), **rows)
reps = mpi.gather(rep, root=0)  # one writer: lines of two ranks would interleave
if mpi.rank == 0:
    for rep in reps:
        print("TEAM", json.dumps(rep), flush=True)
"""


@pytest.mark.mpi
def test_team_of_two_equals_team_of_one(tmp_path):
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        pytest.skip("mpirun not found")
    script = tmp_path / "team.py"
    script.write_text(_SCRIPT.format(tests=str(ROOT / "tests"), N=600, seed=7))
    out = subprocess.run([mpirun, "-n", "2", "--oversubscribe", sys.executable, str(script)], cwd=ROOT,
                         capture_output=True, text=True, timeout=180,
                         env=mpi_env(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    assert out.returncode == 0, out.stderr[-3000:]
    reps = sorted((json.loads(line[5:]) for line in out.stdout.splitlines() if line.startswith("TEAM ")),
                  key=lambda r: r["rank"])
    assert [r["rank"] for r in reps] == [0, 1]
    for r in reps:
        assert r["unstable"] == 0 and r["same_pairs"] and r["allsame"], r
        for k, v in r["rel"].items():  # participation ratios: near-degenerate modes may mix more
            assert v < (1e-8 if k == "participation" else 1e-10), (k, v)
        assert r["zrel"] < 1e-10
        assert r["matvec_err"] == 0.0
        # the team's Mat has the pinned system's rows, each rank about half of them, and the rows
        # a rank builds are exactly those it owns in the Mat
        assert r["pinned_local"] == r["mat_local"] and abs(r["pinned_local"] - r["mat_rows"] / 2) <= 3
        assert abs(r["full_local"] - 600 * 3 / 2) <= 3
        # MUMPS's own figures: a team's total is at least its largest rank's
        assert 0 < r["mem"][1] <= r["mem"][2] and r["mem1"][1] == r["mem1"][2]
    assert reps[0]["rows_equal"]  # the ranks' rows together are the whole pinned matrix, bitwise
    assert sum(r["pinned_nnz"] for r in reps) == reps[0]["total_nnz"]
    # (the large particles come last and have more contacts, so the entries split less evenly)
    assert all(r["pinned_nnz"] < 0.7 * reps[0]["total_nnz"] for r in reps)
    assert reps[0]["mem"] == reps[1]["mem"]  # the same record on every rank of the team
