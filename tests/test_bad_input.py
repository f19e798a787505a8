"""Bad inputs are refused before any compute with exit 2 and one line naming file, key and
problem.  One row per class of bad input: ``validate`` in this process for every row, and the
rows marked ``mpi`` also through `hpcglass run` under `mpirun -n 2` (no hang, exit 2, no parts)."""

import time

import pytest

from hpcglass.cli import main

from mpi_helpers import run_hpcglass

OK = "run: {seed: 1}\nensembles:\n  - {name: a, kind: lattice, d: 2, L: 5, realizations: 4}\n"
GLASS = "run: {seed: 1}\nensembles:\n  - {name: g, kind: glass, model: ipl, d: 2, N: 64, samples: 2, T_p: 1.0}\n"
BOMB = "[&a [xxxxxxxxxx, xxxxxxxxxx], " + ", ".join(
    f"&{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefg", "bcdefgh")) + "]"  # 9^7 lists, 2 GB as repr

# (id, file content (str or bytes), piece of the message, also under mpirun)
ROWS = [
    ("not-utf8", OK.replace("name: a", "name: a\xe9").encode("latin-1"), "not UTF-8 text (byte 0xe9", True),
    ("mixed-unknown-keys", OK.replace("L: 5,", "L: 5, 1: x, zz: y,"), "ensembles[0].zz: unknown key", True),
    ("kind-list", OK.replace("kind: lattice", "kind: [lattice]"), "ensembles[0].kind = ['lattice']: expected one of",
     False),
    ("kind-mapping", OK.replace("kind: lattice", "kind: {a: 1}"), "ensembles[0].kind = {'a': 1}: expected one of",
     False),
    ("huge-realizations", OK.replace("realizations: 4", "realizations: 100000000000000000000"),
     "ensembles[0].realizations = 100000000000000000000: expected an integer >= 1 (at most 10^10)", True),
    ("huge-samples", GLASS.replace("samples: 2", "samples: 10000000000000"),
     "ensembles[0].samples = 10000000000000: expected an integer >= 1 (at most 1000000)", False),
    ("too-many-tasks", OK.replace("realizations: 4", "realizations: 10000000000, batch: 1"),
     "ensembles: 10000000000 tasks in all: expected at most 1000000", False),
    ("duplicate-key", OK.replace("L: 5,", "L: 5, L: 7,"), "not valid YAML: duplicate key 'L' (line 3, column 42)",
     False),
    ("huge-N", GLASS.replace("N: 64", "N: 1000000000000"),
     "ensembles[0].N = 1000000000000: expected an integer >= 2 (at most 1000000)", False),
    ("lattice-d5", OK.replace("d: 2", "d: 5"), "ensembles[0].d = 5: expected an integer >= 1 (at most 4)", False),
    ("modes-beyond-dof", GLASS.replace("T_p: 1.0", "T_p: 1.0, modes: 127"),
     "ensembles[0].modes = 127: expected at most d (N - 1) = 126", False),
    ("name-newline", OK.replace("name: a", 'name: "a\\n"'), "ensembles[0].name = 'a\\n': expected a name", False),
    ("run-name-control", OK.replace("seed: 1", 'seed: 1, name: "x\\x1b[2J"'), "run.name = 'x\\x1b[2J'", False),
    ("alias-bomb-cut", OK.replace("seed: 1", "seed: " + BOMB), "run.seed = [['xxxxxxxxxx', 'xxxxxxxxxx'], [[", False),
    ("lammps-engine-poly", GLASS.replace("model: ipl", "model: poly").replace("T_p: 1.0", "T_p: 1.0, engine: lammps"),
     "ensembles[0].engine = 'lammps': expected engine 'lammps' supports models", True),
    ("lammps-engine-4d", GLASS.replace("d: 2", "d: 4").replace("T_p: 1.0", "T_p: 1.0, engine: lammps"),
     "ensembles[0].engine = 'lammps': expected engine 'lammps' supports d in", False),
    ("petsc-view", OK.replace("seed: 1", "seed: 1, petsc_options: {dipole_ksp_view: null}"),
     "run.petsc_options.dipole_ksp_view = None: expected a solver option", True),
    ("petsc-log-path", OK.replace("seed: 1", "seed: 1, petsc_options: {log_view: ':/tmp/x.txt'}"),
     "run.petsc_options.log_view", False),
    ("petsc-value-path", OK.replace("seed: 1", "seed: 1, petsc_options: {dipole_pc_type: 'ascii:/etc/x'}"),
     "run.petsc_options.dipole_pc_type = 'ascii:/etc/x': expected a value of letters", False),
    ("petsc-options-file", OK.replace("seed: 1", "seed: 1, petsc_options: {options_file: x}"),
     "run.petsc_options.options_file", False),
]


def _write(tmp_path, content):
    p = tmp_path / "bad.yaml"
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    return p


@pytest.mark.parametrize("content,message", [r[1:3] for r in ROWS], ids=[r[0] for r in ROWS])
def test_validate_refuses(tmp_path, capsys, content, message):
    p = _write(tmp_path, content)
    assert main(["validate", str(p)]) == 2
    err = capsys.readouterr().err
    assert f"{p}: " in err and message in err, err
    assert len(err.strip().splitlines()) == 1 and len(err) < 400, err


@pytest.mark.mpi
@pytest.mark.parametrize("content,message", [r[1:3] for r in ROWS if r[3]], ids=[r[0] for r in ROWS if r[3]])
def test_run_refuses_on_every_rank(tmp_path, content, message):
    p = _write(tmp_path, content)
    t0 = time.time()
    r = run_hpcglass(2, "run", str(p), "--out", str(tmp_path / "b.h5"), timeout=60)
    assert r.returncode == 2 and message in r.stderr and time.time() - t0 < 60, r.stderr
    assert not (tmp_path / "b.h5.parts").exists()


@pytest.mark.mpi
@pytest.mark.parametrize("argv,message", [
    (["-dipole_ksp_view"], "command line: PETSc option -dipole_ksp_view: expected a solver option"),
    (["-log_view", ":/tmp/x"], "PETSc option -log_view"),
    (["-dipole_pc_type", "ascii:out.txt"], "PETSc option -dipole_pc_type 'ascii:out.txt': expected a value"),
])
def test_run_refuses_petsc_command_line_options_that_name_files(tmp_path, argv, message):
    p = _write(tmp_path, OK)
    r = run_hpcglass(2, "run", str(p), "--out", str(tmp_path / "b.h5"), "--", *argv, timeout=60)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / "b.h5.parts").exists()


@pytest.mark.mpi
def test_run_refuses_a_manifest_that_is_not_json(tmp_path):
    p = _write(tmp_path, OK)
    parts = tmp_path / "b.h5.parts"
    parts.mkdir()
    (parts / "manifest.json").write_text("{not json")
    r = run_hpcglass(2, "run", str(p), "--out", str(tmp_path / "b.h5"), "--resume", timeout=60)
    assert r.returncode == 2 and "manifest.json: not a manifest of hpcglass" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_validate_refuses_a_team_size_below_one(tmp_path, capsys):
    p = _write(tmp_path, GLASS.replace("T_p: 1.0", "T_p: 1.0, ranks_per_task: 0"))
    assert main(["validate", str(p)]) == 2
    assert f"{p}: ensembles[0].ranks_per_task = 0: expected an integer >= 1" in capsys.readouterr().err


@pytest.mark.mpi
@pytest.mark.parametrize("extra,args,message", [
    ("ranks_per_task: 3", (), "ensembles[0].ranks_per_task = 3: expected a divisor of the 2 MPI ranks of this run"),
    ("ranks_per_task: 4", (), "ensembles[0].ranks_per_task = 4: expected a divisor of the 2 MPI ranks of this run"),
    ("ranks_per_task: 1", ("--ranks-per-task", "3"),
     "command line: --ranks-per-task 3: expected a divisor of the 2 MPI ranks of this run"),
    ("ranks_per_task: 1", ("--ranks-per-task", "0"), "command line: --ranks-per-task 0: expected an integer >= 1"),
])
def test_run_refuses_a_team_size_the_world_cannot_split(tmp_path, extra, args, message):
    """Teams of ranks_per_task ranks must tile the ranks of the run: exit 2 on every rank before
    any compute (no hang, no parts folder)."""
    p = _write(tmp_path, GLASS.replace("T_p: 1.0", f"T_p: 1.0, {extra}"))
    t0 = time.time()
    r = run_hpcglass(2, "run", str(p), "--out", str(tmp_path / "b.h5"), *args, timeout=60)
    assert r.returncode == 2 and message in r.stderr and time.time() - t0 < 60, r.stderr
    assert r.stderr.count("error: ") == 1, r.stderr  # one line, from rank 0 (the rest is mpirun's)
    assert not (tmp_path / "b.h5.parts").exists()
