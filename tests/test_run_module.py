"""hpcglass.run.run called from Python (no argv, no mpirun): one rank on COMM_SELF."""

import h5py
import numpy as np
import pytest
from mpi4py import MPI

from hpcglass.config import parse_config
from hpcglass.lattice import generator, lattice_kappa
from hpcglass.run import BadInput, RunSummary, run
from hpcglass.tasks import expand

TEXT = """
run: {seed: 5, progress_seconds: 100}
ensembles:
  - {name: a, kind: lattice, d: 2, L: 9, realizations: 50, batch: 20}
  - {name: b, kind: lattice, d: 3, L: 5, realizations: 10, batch: 10}
"""


def test_run_from_python_writes_the_run_file_and_returns_a_summary(tmp_path):
    inp = tmp_path / "in.yaml"
    inp.write_text(TEXT)
    out = tmp_path / "r.h5"
    s = run(inp, out=str(out), comm=MPI.COMM_SELF)
    assert s == RunSummary(str(out), 4, 4, 0, {}, False) and s.exit_code == 0
    assert not (tmp_path / "r.h5.parts").exists()
    cfg = parse_config(TEXT, str(inp))
    with h5py.File(out, "r") as h5:
        kappa, off = h5["ensembles/a/kappa"][()], h5["ensembles/a/kappa_offsets"][()]
        assert list(off) == [0, 20, 40, 50] and h5["provenance"].attrs["n_ranks"] == 1
    for t in expand(cfg)[:3]:  # each task's kappa, recomputed from its seed by the lattice model itself
        ref = lattice_kappa(2, 9, t.size, generator(t.seed_sequence(5)))
        assert np.array_equal(kappa[off[t.part]:off[t.part + 1]], ref)
    # a RunConfig object and one ensemble: the same data for that ensemble
    s2 = run(cfg, out=str(tmp_path / "b.h5"), ensemble="b", comm=MPI.COMM_SELF)
    assert s2.n_tasks == 1 and s2.output == str(tmp_path / "b.h5")
    with h5py.File(out, "r") as full, h5py.File(tmp_path / "b.h5", "r") as one:
        assert np.array_equal(full["ensembles/b/kappa"][()], one["ensembles/b/kappa"][()])
        assert "a" not in one["ensembles"]


def test_run_from_python_refuses_bad_input_and_existing_output(tmp_path):
    inp = tmp_path / "in.yaml"
    inp.write_text(TEXT.replace("L: 9", "L: 8"))
    with pytest.raises(BadInput, match=r"ensembles\[0\].L = 8: expected an odd integer >= 3"):
        run(inp, out=str(tmp_path / "x.h5"), comm=MPI.COMM_SELF)
    assert not (tmp_path / "x.h5.parts").exists()
    inp.write_text(TEXT)
    run(inp, out=str(tmp_path / "x.h5"), comm=MPI.COMM_SELF)
    with pytest.raises(BadInput, match="exists; use --resume"):
        run(inp, out=str(tmp_path / "x.h5"), comm=MPI.COMM_SELF)
    with pytest.raises(BadInput, match="already complete"):
        run(inp, out=str(tmp_path / "x.h5"), resume=True, comm=MPI.COMM_SELF)
    with pytest.raises(BadInput, match="cannot read"):
        run(tmp_path / "nope.yaml", comm=MPI.COMM_SELF)
    with pytest.raises(ValueError, match="retry_failed needs resume"):
        run(inp, retry_failed=True, comm=MPI.COMM_SELF)
