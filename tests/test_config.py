"""Input validation: every class of bad input is refused with file, key, value and expectation."""

import pytest

from hpcglass.config import LatticeEnsemble, parse_config
from hpcglass.inputfile import ConfigError
from hpcglass.tasks import expand

GOOD = """
run: {seed: 7}
ensembles:
  - {name: a, kind: lattice, d: 2, L: 11, realizations: 25, batch: 10}
"""


def test_good_input_defaults_and_tasks():
    cfg = parse_config(GOOD, "dir/x.yaml")
    assert cfg.seed == 7 and cfg.output == "runs/x.h5" and cfg.name == "x"
    (ens,) = cfg.ensembles
    assert isinstance(ens, LatticeEnsemble) and ens.hist_min == 1e-9
    tasks = expand(cfg)
    assert [t.size for t in tasks] == [10, 10, 5]
    assert [t.index for t in tasks] == [0, 1, 2]


def test_seed_depends_on_task_index_only():
    cfg = parse_config(GOOD, "x.yaml")
    t = expand(cfg)
    assert t[1].rng(7).random() == t[1].rng(7).random()
    assert t[1].rng(7).random() != t[2].rng(7).random()


def test_float_written_as_1e_minus_3_is_accepted():
    cfg = parse_config(GOOD.replace("batch: 10}", "batch: 10, hist_min: 1e-7}"), "x.yaml")
    assert cfg.ensembles[0].hist_min == 1e-7


def test_output_override():
    assert parse_config(GOOD, "x.yaml", output="o.h5").output == "o.h5"


@pytest.mark.parametrize(
    "old,new,key,expected",
    [
        ("L: 11", "L: 10", "ensembles[0].L = 10", "odd integer"),
        ("L: 11", "L: 1", "ensembles[0].L = 1", "odd integer >= 3"),
        ("L: 11", "L: 11.0", "ensembles[0].L = 11.0", "integer"),
        ("d: 2", "d: 0", "ensembles[0].d = 0", "integer >= 1"),
        ("realizations: 25", "realizations: 0", "ensembles[0].realizations = 0", ">= 1"),
        ("realizations: 25", "realizations: -5", "ensembles[0].realizations = -5", ">= 1"),
        ("batch: 10", "batch: true", "ensembles[0].batch = True", "integer"),
        ("batch: 10", "batch: 10, colour: red", "ensembles[0].colour", "unknown key"),
        ("kind: lattice", "kind: crystal", "ensembles[0].kind = 'crystal'", "one of analyse, glass, lattice"),
        ("seed: 7", "seed: -1", "run.seed = -1", "integer >= 0"),
        ("seed: 7", "seed: '7'", "run.seed = '7'", "integer"),
        ("{seed: 7}", "{seed: 7, verbose: 1}", "run.verbose", "unknown key"),
        ("name: a,", "name: 'a b',", "ensembles[0].name = 'a b'", "a name of letters"),
        ("d: 2, ", "", "ensembles[0].d", "missing required key"),
    ],
)
def test_bad_values_name_file_key_value_expectation(old, new, key, expected):
    with pytest.raises(ConfigError) as err:
        parse_config(GOOD.replace(old, new), "in/bad.yaml")
    msg = str(err.value)
    assert msg.startswith("in/bad.yaml: "), msg
    assert key in msg and expected in msg, msg


def test_structural_errors():
    for text, needle in [
        ("run: {seed: 1}\n", "ensembles"),
        ("ensembles: []\nrun: {seed: 1}", "non-empty list"),
        ("run: [1]\nensembles: []", r"run = \[1\]"),
        ("run: {seed: 1\n", "not valid YAML"),
        ("- 1\n", "top level"),
        ("run: {}\nensembles: [{name: a, kind: lattice, d: 2, L: 3, realizations: 1}]", "run.seed: missing"),
        (GOOD + "  - {name: a, kind: lattice, d: 2, L: 3, realizations: 1}\n", "not used by another"),
        (GOOD + "extra: 1\n", "extra: unknown key"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            parse_config(text, "f.yaml")


GLASS = """
run: {seed: 1}
ensembles:
  - {name: g, kind: glass, model: ipl, d: 2, N: 64, samples: 3, T_p: 1.0}
"""


def test_glass_defaults_and_tasks():
    cfg = parse_config(GLASS, "g.yaml")
    (ens,) = cfg.ensembles
    assert ens.protocol == "instantaneous" and ens.ftol == 1e-10 and ens.pairs == "threshold"
    assert ens.shear_modulus is True and ens.modes == 0
    assert [t.size for t in expand(cfg)] == [1, 1, 1]


@pytest.mark.parametrize(
    "old,new,key,expected",
    [
        ("N: 64", "N: 0", "ensembles[0].N = 0", "integer >= 2"),
        ("N: 64", "N: -4", "ensembles[0].N = -4", "integer >= 2"),
        ("N: 64", "N: 65", "ensembles[0].N = 65", "even number"),
        ("T_p: 1.0", "T_p: -0.5", "ensembles[0].T_p = -0.5", "number > 0"),
        ("T_p: 1.0", "T_p: 0", "ensembles[0].T_p = 0.0", "number > 0"),
        ("d: 2", "d: 5", "ensembles[0].d = 5", "one of 2, 3, 4 for model ipl"),
        ("model: ipl, d: 2", "model: poly, d: 4", "ensembles[0].d = 4", "one of 2, 3 for model poly"),
        ("model: ipl, d: 2", "model: kablj, d: 2", "ensembles[0].d = 2", "one of 3 for model kablj"),
        ("model: ipl, d: 2, N: 64", "model: kablj, d: 3, N: 64", "ensembles[0].N = 64", "multiple of 5"),
        ("model: ipl, d: 2, N: 64", "model: kablj, d: 3, N: 65", "ensembles[0].pairs = 'threshold'", "all or random"),
        ("model: ipl", "model: lj", "ensembles[0].model = 'lj'", "one of ipl, poly, kablj"),
        ("samples: 3", "samples: 0", "ensembles[0].samples = 0", "integer >= 1"),
        ("T_p: 1.0", "T_p: 1.0, protocol: slow", "ensembles[0].protocol = 'slow'", "instantaneous, continuous"),
        ("T_p: 1.0", "T_p: 1.0, shear_modulus: 1", "ensembles[0].shear_modulus = 1", "true or false"),
        ("T_p: 1.0", "T_p: 1.0, ftol: 1e-12", None, None),
    ],
)
def test_bad_glass_values(old, new, key, expected):
    text = GLASS.replace(old, new)
    if key is None:
        assert parse_config(text, "g.yaml").ensembles[0].ftol == 1e-12
        return
    with pytest.raises(ConfigError) as err:
        parse_config(text, "in/g.yaml")
    msg = str(err.value)
    assert msg.startswith("in/g.yaml: ") and key in msg and expected in msg, msg


def test_every_committed_input_validates():
    """`hpcglass validate` on every YAML in inputs/, through the real command line."""
    import glob
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = sorted(glob.glob(str(root / "inputs" / "**" / "*.yaml"), recursive=True))
    assert len(files) >= 15
    r = subprocess.run([sys.executable, "-m", "hpcglass.cli", "validate", *files], capture_output=True,
                       text=True, cwd=root, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(": ok:") == len(files)


def test_mode_vectors_cannot_exceed_modes():
    bad = """
run: {seed: 1}
ensembles:
  - {name: g, kind: glass, model: ipl, d: 2, N: 64, samples: 1, T_p: 1.0, modes: 2, mode_vectors: 3}
"""
    with pytest.raises(ConfigError, match=r"ensembles\[0\].mode_vectors = 3: expected at most modes = 2"):
        parse_config(bad, "x.yaml")


def test_analyse_kind_files_relative_to_input_and_one_task_per_file():
    from hpcglass.config import AnalyseEnsemble, ensemble_params, parse_config
    from hpcglass.tasks import expand

    text = """
run: {seed: 1}
ensembles:
  - {name: a, kind: analyse, model: ipl, files: [x.xyz, sub/y.data, /abs/z.h5], modes: 3, f_max: 1e-2}
"""
    cfg = parse_config(text, "in/a.yaml")
    (ens,) = cfg.ensembles
    assert isinstance(ens, AnalyseEnsemble)
    assert ens.files == ("in/x.xyz", "in/sub/y.data", "/abs/z.h5")
    assert (ens.N, ens.d, ens.format, ens.ftol, ens.pairs, ens.f_max) == (0, 0, "", 1e-10, "threshold", 1e-2)
    tasks = expand(cfg)
    assert [(t.kind, t.part) for t in tasks] == [("analyse", 0), ("analyse", 1), ("analyse", 2)]
    assert ensemble_params(ens)["files"] == ("in/x.xyz", "in/sub/y.data", "/abs/z.h5")


@pytest.mark.parametrize("entry,key,expected", [
    ("files: []", "files", "a non-empty list of file paths"),
    ("files: a.xyz", "files", "a non-empty list of file paths"),
    ("files: [a.xyz, 3]", "files", "a non-empty list of file paths"),
    ("files: [a.xyz], format: pdb", "format", "one of extxyz, lammps-data, h5md"),
    ("files: [a.xyz], d: 4, model: poly", "d", "one of 2, 3 for model poly"),
    ("files: [a.xyz], modes: 1, mode_vectors: 2", "mode_vectors", "at most modes = 1"),
    ("files: [a.xyz], model: kablj", "pairs", "all or random for kablj"),
    ("files: [a.xyz], samples: 3", "samples", "unknown key"),
])
def test_bad_analyse_values(entry, key, expected):
    from hpcglass.config import parse_config
    from hpcglass.inputfile import ConfigError

    entry = entry if "model:" in entry else entry + ", model: ipl"
    text = f"run: {{seed: 1}}\nensembles:\n  - {{name: a, kind: analyse, {entry}}}\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, "in/a.yaml")
    msg = str(err.value)
    assert msg.startswith("in/a.yaml: ") and f"ensembles[0].{key}" in msg and expected in msg, msg


def test_version_and_license(capsys):
    import pathlib

    import hpcglass
    from hpcglass.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"hpcglass {hpcglass.__version__}"
    root = pathlib.Path(__file__).resolve().parents[1]
    assert "MIT License" in (root / "LICENSE").read_text()
    assert "license = MIT" in (root / "setup.cfg").read_text()
