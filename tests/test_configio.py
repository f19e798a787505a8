"""Configurations in and out (hpcglass.configio, hpcglass.lammps_io, `hpcglass export`), the H5MD
view of the run file (validated with the reference reader pyh5md plus the H5MD 1.1 rules it does
not check), and the `analyse` task kind on configurations made by LAMMPS itself."""

import json
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from hpcglass import configio, lammps_io
from hpcglass.configio import Configuration, ConfigurationError
from hpcglass.kernels.forces import energy_forces
from hpcglass.models import make_model

from mpi_helpers import ROOT, mpi_env, run_hpcglass


def _random_conf(model: str, d: int, N: int, seed: int = 3) -> Configuration:
    rng = np.random.default_rng(seed)
    m = make_model(model, d, N, 0.0, rng)
    return Configuration(x=rng.random((N, d)) * m.L, L=m.L, species=m.species.copy(),
                         diameter=m.sizes.copy() if model == "poly" else None,
                         energy=float(rng.normal()) * N, forces=rng.normal(size=(N, d)))


@pytest.mark.parametrize("model,d", [("ipl", 2), ("ipl", 3), ("poly", 2), ("kablj", 3), ("ipl", 4)])
@pytest.mark.parametrize("fmt", configio.FORMATS)
def test_write_read_round_trip_is_bit_exact(tmp_path, model, d, fmt):
    conf = _random_conf(model, d, 40)
    path = str(tmp_path / f"c.{ {'extxyz': 'xyz', 'lammps-data': 'data', 'h5md': 'h5'}[fmt] }")
    if d == 4 and fmt != "h5md":
        with pytest.raises(ConfigurationError, match="not d = 4; use h5md"):
            configio.write_configuration(path, conf, model, fmt)
        return
    configio.write_configuration(path, conf, model, fmt)
    back = configio.read_configuration(path, model)
    assert back.d == d and back.N == 40 and back.L == conf.L
    assert np.array_equal(back.x, conf.x)  # to the last digit
    assert np.array_equal(back.species, conf.species)
    assert back.energy == conf.energy
    if model == "poly":
        assert np.array_equal(back.diameter, conf.diameter)
    if fmt != "lammps-data":  # LAMMPS data files carry no forces
        assert np.array_equal(back.forces, conf.forces)


def test_extxyz_is_read_by_ase(tmp_path):
    ase_io = pytest.importorskip("ase.io", reason="python3-ase not installed (make setup installs it)")
    conf = _random_conf("kablj", 3, 50)
    configio.write_extxyz(str(tmp_path / "c.xyz"), conf, "kablj")
    atoms = ase_io.read(str(tmp_path / "c.xyz"))
    assert np.array_equal(atoms.positions, conf.x)
    assert np.array_equal(atoms.arrays["type"], conf.species + 1)
    assert np.allclose(atoms.cell.lengths(), conf.L, rtol=0, atol=0)
    assert atoms.get_potential_energy() == conf.energy
    assert np.array_equal(atoms.get_forces(), conf.forces)


def _bad_files(tmp_path, conf: Configuration, model: str) -> dict:
    """name -> (path, expected message part): one file per problem."""
    out = {}
    short = Configuration(conf.x[:-2], conf.L, conf.species[:-2])
    configio.write_extxyz(str(tmp_path / "short.xyz"), short, model)
    out["count"] = (str(tmp_path / "short.xyz"), "wrong atom count")
    lammps_io.write_lammps_data(str(tmp_path / "species.data"), conf, model)
    text = (tmp_path / "species.data").read_text().replace("\n3 1 ", "\n3 3 ", 1)
    (tmp_path / "species.data").write_text(text)
    out["species"] = (str(tmp_path / "species.data"), "unknown species '3'")
    tiny = Configuration(conf.x * 0.5, conf.L * 0.5, conf.species)
    configio.write_extxyz(str(tmp_path / "tiny.xyz"), tiny, model)
    out["box"] = (str(tmp_path / "tiny.xyz"), "box too small for the cutoff")
    x = conf.x.copy()
    x[3, 1] = np.nan
    configio.write_extxyz(str(tmp_path / "nan.xyz"), Configuration(x, conf.L, conf.species), model)
    out["nan"] = (str(tmp_path / "nan.xyz"), "non-finite position of atom 4")
    out["missing"] = (str(tmp_path / "missing.data"), "cannot read")
    return out


def test_bad_files_get_one_line_naming_file_and_problem(tmp_path):
    conf = _random_conf("ipl", 3, 100)
    m = configio.model_for(conf, "ipl")
    for name, (path, message) in _bad_files(tmp_path, conf, "ipl").items():
        with pytest.raises(ConfigurationError) as err:
            c = configio.read_configuration(path, "ipl")
            configio.check_configuration(path, c, configio.model_for(c, "ipl"), N=100, d=3)
        text = str(err.value)
        assert text.startswith(path + ": ") and message in text and "\n" not in text, (name, text)
    configio.check_configuration("good", conf, m, N=100, d=3)  # the good one passes


# ----------------------------------------------------------------------------- H5MD view and export
GLASS_INPUT = """run: {seed: 11}
ensembles:
  - {name: lat, kind: lattice, d: 2, L: 11, realizations: 100, batch: 50}
  - {name: ipl2d, kind: glass, model: ipl, d: 2, N: 64, samples: 3, T_p: 1.0, equilibration: 2, modes: 3}
"""


@pytest.fixture(scope="module")
def glass_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("glassrun")
    (tmp / "g.yaml").write_text(GLASS_INPUT)
    r = run_hpcglass(2, "run", str(tmp / "g.yaml"), "--out", str(tmp / "g.h5"), timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp / "g.h5"


def check_h5md(path) -> dict:
    """Validate an H5MD 1.1 file: pyh5md opens it (it asserts /h5md/author and creator) and reads
    every element; plus the rules pyh5md does not check.  Returns {group: (T, N, d)}."""
    pyh5md = pytest.importorskip("pyh5md", reason="pyh5md not installed (make setup installs it)")
    out = {}
    with pyh5md.File(str(path), "r") as f:
        meta = f["h5md"]
        assert list(meta.attrs["version"]) == [1, 1]
        assert meta["author"].attrs["name"]
        assert meta["creator"].attrs["name"] and meta["creator"].attrs["version"]
        for name in f["particles"]:
            pg = f.particles_group(name)
            box = pg["box"]
            d = int(box.attrs["dimension"])
            boundary = [b.decode() if isinstance(b, bytes) else b for b in box.attrs["boundary"]]
            assert len(boundary) == d and set(boundary) <= {"periodic", "none"}
            edges = pyh5md.element(box, "edges")
            pos = pyh5md.element(pg, "position")
            T = pos.value.shape[0]
            steps = pos.step[()]
            assert steps.dtype.kind == "i" and steps.shape == (T,) and np.all(np.diff(steps) > 0)
            if isinstance(edges, pyh5md.FixedElement):  # one box for all frames
                assert edges.shape == (d,)
                edge_rows = np.repeat(edges[()][None], T, axis=0)
            else:
                assert isinstance(edges, pyh5md.TimeElement)
                assert edges.value.shape == (T, d), "a d-dim box has d edges per frame"
                assert np.array_equal(edges.step[()], steps)
                edge_rows = edges.value[()]
            for ename in pg:
                if ename == "box":
                    continue
                e = pyh5md.element(pg, ename)
                assert isinstance(e, pyh5md.TimeElement), ename
                assert e.value.shape[0] == T and np.array_equal(e.step[()], steps), ename
            pos = pos.value
            assert pos.ndim == 3 and pos.shape[2] == d
            out[name] = pos.shape
            done = ~np.isnan(edge_rows).any(axis=1)
            assert np.all(pos[()][done] >= 0) and np.all(pos[()][done] < edge_rows[done][:, None, :])
    return out


def test_run_file_is_valid_h5md(glass_run):
    shapes = check_h5md(glass_run)
    assert shapes == {"ipl2d": (3, 64, 2)}  # 3 samples, 2D box (not a 3-dimensional one)
    with h5py.File(glass_run, "r") as h5:
        L = h5["ensembles/ipl2d/box"][()]
        assert np.array_equal(h5["particles/ipl2d/box/edges/value"][()], np.repeat(L[:, None], 2, axis=1))


@pytest.mark.parametrize("fmt", configio.FORMATS)
def test_export_round_trip(glass_run, tmp_path, fmt):
    out = tmp_path / f"s.{fmt}"
    r = subprocess.run([sys.executable, "-m", "hpcglass", "export", str(glass_run), "--ensemble", "ipl2d",
                        "--sample", "2", "--format", fmt, str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    back = configio.read_configuration(str(out), "", fmt)
    with h5py.File(glass_run, "r") as h5:
        g = h5["ensembles/ipl2d"]
        assert np.array_equal(back.x, g["position"][2])
        assert np.array_equal(back.species, g["species"][2])
        assert back.L == g["box"][2]
        assert back.energy == g["energy"][2] * 64
    if fmt == "h5md":
        assert check_h5md(out) == {"all": (1, 64, 2)}
    bad = subprocess.run([sys.executable, "-m", "hpcglass", "export", str(glass_run), "--ensemble", "lat",
                          "--sample", "0", "--format", fmt, str(out)], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "stores no configurations" in bad.stderr


def test_analyse_of_exported_samples_reproduces_the_glass_task(glass_run, tmp_path):
    """Three glass samples exported in the three formats and analysed: FIRE has nothing to do and the
    harmonic stage gives the glass task's numbers bit for bit (same function, same configuration)."""
    files = []
    for k, fmt in enumerate(configio.FORMATS):
        files.append(str(tmp_path / f"s{k}.{fmt}"))
        r = subprocess.run([sys.executable, "-m", "hpcglass", "export", str(glass_run), "--ensemble", "ipl2d",
                            "--sample", str(k), "--format", fmt, files[-1]], capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 0, r.stderr
    inp = {"run": {"seed": 1}, "ensembles": [{"name": "again", "kind": "analyse", "model": "ipl", "files": files,
                                              "format": "", "modes": 3}]}
    (tmp_path / "a.yaml").write_text(json.dumps(inp))
    r = run_hpcglass(2, "run", str(tmp_path / "a.yaml"), "--out", str(tmp_path / "a.h5"), timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    with h5py.File(glass_run, "r") as h5g, h5py.File(tmp_path / "a.h5", "r") as h5a:
        g, a = h5g["ensembles/ipl2d"], h5a["ensembles/again"]
        assert list(a["fire_steps"][()]) == [0, 0, 0]
        for f in ("energy", "energy_input", "G", "born", "nonaffine", "B", "lambda_low", "participation_low",
                  "eigenvalues", "unstable", "n_rattlers", "kappa", "f", "pair_i", "pair_j", "kappa_offsets",
                  "position", "box"):
            assert np.array_equal(a[f][()], g["energy" if f == "energy_input" else f][()]), f
    assert check_h5md(tmp_path / "a.h5") == {"again": (3, 64, 2)}


# ----------------------------------------------------------------------------- LAMMPS-made glasses
LMP_HEAD = """units lj
atom_style atomic
boundary p p p
read_data start.data
{pair}
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
thermo_modify norm no
"""
LMP_MIN = """min_modify norm inf
minimize 0.0 1e-10 100000 100000
print "PE $(pe:%.17g)"
write_data glass.data
"""


def _lammps(workdir, script: str) -> str:
    (workdir / "in.txt").write_text(script)
    r = subprocess.run([shutil.which("lmp"), "-in", "in.txt", "-log", "none", "-nocite", "-echo", "none"],
                       cwd=workdir, capture_output=True, text=True, env=dict(mpi_env(), OMP_NUM_THREADS="1"),
                       timeout=300)
    assert r.returncode == 0 and "ERROR" not in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
    return r.stdout


def _lammps_glass(workdir, name: str, N: int, style: str, seed: int):
    """A glass made by LAMMPS: hpcglass random start (overlaps removed), LAMMPS minimize with
    ``style`` (table: hpcglass's own potential; lj/cut: KA with a plain shift).  Returns the data
    file LAMMPS wrote, its energy, and the model evaluating the same potential."""
    from hpcglass.kernels.forces import VerletList
    from hpcglass.sampling.minimize import fire

    wd = workdir / name
    wd.mkdir()
    rng = np.random.default_rng(seed)
    m = make_model(name, 3, N, smoothed=style == "table")
    x = fire(rng.random((N, 3)) * m.L, m.L, VerletList(m).force, ftol=1.0).x
    lammps_io.write_lammps_data(str(wd / "start.data"), Configuration(x, m.L, m.species), name)
    if style == "table":
        lammps_io.write_lammps_table(str(wd / "table.txt"), m, 20000)
    out = _lammps(wd, LMP_HEAD.format(pair=lammps_io.lammps_pair_lines(m, style)) + LMP_MIN)
    pe = float(out.split("PE ")[-1].split()[0])
    return wd / "glass.data", pe, m


@pytest.fixture(scope="module")
def lammps_run(tmp_path_factory):
    if shutil.which("lmp") is None:
        pytest.skip("LAMMPS (lmp) not installed: apt-get install lammps (make setup installs it)")
    tmp = tmp_path_factory.mktemp("lammps")
    ipl_file, ipl_pe, ipl_model = _lammps_glass(tmp, "ipl", 256, "table", 1)
    ka_file, ka_pe, ka_model = _lammps_glass(tmp, "kablj", 250, "lj/cut", 2)
    ipl = configio.read_configuration(str(ipl_file), "ipl")
    configio.write_extxyz(str(tmp / "ipl_copy.xyz"), ipl, "ipl")
    configio.write_h5md(str(tmp / "ipl_copy.h5"), ipl, "ipl")
    bad = _bad_files(tmp, ipl, "ipl")
    files = [str(ipl_file), str(tmp / "ipl_copy.xyz"), str(tmp / "ipl_copy.h5")] + [p for p, _ in bad.values()]
    inp = {"run": {"seed": 3},
           "ensembles": [{"name": "ipl_lmp", "kind": "analyse", "model": "ipl", "files": files, "modes": 3},
                         {"name": "ka_lmp", "kind": "analyse", "model": "kablj", "files": [str(ka_file)],
                          "pairs": "all", "modes": 3}]}
    (tmp / "a.yaml").write_text(json.dumps(inp))  # JSON is YAML
    r = run_hpcglass(2, "run", str(tmp / "a.yaml"), "--out", str(tmp / "a.h5"), timeout=400)
    assert r.returncode == 3, r.stderr[-3000:]  # the bad files are failed tasks; the run file is written
    return dict(tmp=tmp, out=tmp / "a.h5", stderr=r.stderr, bad=bad, n_good=3,
                ipl=(ipl_file, ipl_pe, ipl_model), ka=(ka_file, ka_pe, ka_model))


def test_lammps_energies_equal_hpcglass(lammps_run):
    for key, tol in (("ipl", 1e-11), ("ka", 1e-12)):
        path, pe, m = lammps_run[key]
        conf = configio.read_configuration(str(path), m.name)
        mm = type(m)(**{**m.__dict__, "L": conf.L, "species": conf.species})
        U = energy_forces(conf.x, mm)[0]
        print(f"{key}: LAMMPS pe {pe!r}, hpcglass {U!r}, relative difference {abs(U / pe - 1):.1e}")
        assert abs(U / pe - 1) < tol


def test_analyse_polishes_lammps_glasses(lammps_run):
    with h5py.File(lammps_run["out"], "r") as h5:
        g = h5["ensembles/ipl_lmp"]
        status = g["status"][()]
        assert list(status[:3]) == [b"done"] * 3 and all(s == b"failed" for s in status[3:])
        _, pe, _ = lammps_run["ipl"]
        E_in, E = g["energy_input"][:3], g["energy"][:3]
        print(f"ipl: LAMMPS pe/N {pe / 256!r}; hpcglass before polish {E_in[0]!r}, after {E[0]!r}; "
              f"polish moved at most {g['polish_displacement'][0]:.1e}")
        assert np.all(np.abs(E_in / (pe / 256) - 1) < 1e-11)  # the table's interpolation error
        assert np.all(E <= E_in + 1e-12) and np.all(g["max_force"][:3] < 1e-10)
        assert np.all(g["polish_displacement"][:3] < 1e-3)
        # the three copies of one configuration (LAMMPS data, extxyz, H5MD) give one result
        for f in ("energy", "G", "lambda_low", "position"):
            assert np.array_equal(g[f][0], g[f][1]) and np.array_equal(g[f][0], g[f][2]), f
        o = g["kappa_offsets"][()]
        assert o[1] > 0 and np.array_equal(g["kappa"][o[0]:o[1]], g["kappa"][o[1]:o[2]])
        for f in ("G", "born", "nonaffine", "n_rattlers", "lambda_low", "participation_low", "unstable",
                  "eigenvalues", "n_kappa_bad", "pressure", "fire_steps", "species", "diameter", "box"):
            assert f in g, f
        ka = h5["ensembles/ka_lmp"]
        assert ka["status"][0] == b"done" and ka["max_force"][0] < 1e-10
        # LAMMPS's minimum of plain shifted lj/cut, polished with hpcglass's smoothed KABLJ
        print(f"ka: smoothed U/N before polish {ka['energy_input'][0]!r}, after {ka['energy'][0]!r}, "
              f"{ka['fire_steps'][0]} FIRE steps, moved at most {ka['polish_displacement'][0]:.1e}")
        assert ka["energy"][0] < ka["energy_input"][0] and ka["fire_steps"][0] > 0
        assert ka["kappa_offsets"][1] == ka["n_pairs_interacting"][0]  # pairs: all
        # the reasons: one line naming the file and the problem
        reasons = dict(zip(h5["tasks/index"][()], h5["tasks/reason"][()]))
        for k, (path, message) in enumerate(lammps_run["bad"].values()):
            reason = reasons[g["task_index"][3 + k]].decode()
            assert f"{path}: " in reason and message in reason, reason
            assert sum(message in ln for ln in lammps_run["stderr"].splitlines()) == 1
    assert "Traceback" not in lammps_run["stderr"]
    shapes = check_h5md(lammps_run["out"])
    assert shapes == {"ipl_lmp": (8, 256, 3), "ka_lmp": (1, 250, 3)}
    r = subprocess.run([sys.executable, "-m", "analysis", str(lammps_run["out"]), "--plots",
                        str(lammps_run["tmp"] / "plots")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]


def test_lammps_reads_our_export_back_to_the_last_digit(lammps_run, tmp_path):
    """hpcglass export -> LAMMPS read_data/write_data -> hpcglass reads: the same positions, bit for bit."""
    r = subprocess.run([sys.executable, "-m", "hpcglass", "export", str(lammps_run["out"]), "--ensemble",
                        "ipl_lmp", "--sample", "0", "--format", "lammps-data", str(tmp_path / "start.data")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    _, _, m = lammps_run["ipl"]
    _lammps(tmp_path, LMP_HEAD.format(pair="pair_style zero 2.0\npair_coeff * *") + "write_data again.data\n")
    again = configio.read_configuration(str(tmp_path / "again.data"), "ipl")
    with h5py.File(lammps_run["out"], "r") as h5:
        x = h5["ensembles/ipl_lmp/position"][0]
    err = np.abs(again.x - x).max()
    print(f"round trip through LAMMPS: max |dx| = {err}")
    assert np.array_equal(again.x, x)
