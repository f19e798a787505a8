"""Configurations in and out: extended XYZ, LAMMPS data and single-configuration H5MD files.

A :class:`Configuration` is one periodic hypercube of side L with N particles in d dimensions:
positions (N, d), the type index per particle (IPL: 0 = small "S", 1 = large "L"; KABLJ:
0 = "A", 1 = "B"; POLY: one type "P") and/or the size lambda_i (POLY), and the potential
energy and forces where known.  Writers print every float with 17 significant digits, so
positions read back are bit-identical to those written.

Readers raise :class:`ConfigurationError` with one line naming the file and the problem;
:func:`check_configuration` adds the checks against a model (atom count, species, box side
against the cutoff, finite positions).

    write_extxyz / read_extxyz     3D (and 2D, z = 0, pbc "T T F", key dimension=2); ASE reads them
    write_lammps_data / read_lammps_data   atom_style atomic (type = species + 1) or sphere (POLY:
                                   the diameter column holds lambda_i); d = 2 written as z = 0 in
                                   [-0.5, 0.5) and a title containing "d=2" (in hpcglass.lammps_io,
                                   with the LAMMPS pair tables)
    write_h5md / read_h5md         /particles/all/{position,species,diameter,box} with one frame
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import numpy as np

from .models import MODELS

# Species names per model, in type-index order (each model module declares its own).
SPECIES_NAMES = {name: m.species_names for name, m in MODELS.items()}
FORMATS = ("extxyz", "lammps-data", "h5md")


class ConfigurationError(ValueError):
    """A configuration file that cannot be used: the message names the file and the problem."""

    user_error = True  # the driver prints the one-line reason without a traceback


@dataclass
class Configuration:
    """x (N, d) positions; L box side; species int64 (N,); diameter float64 (N,) sizes lambda_i
    (POLY; None when the file has none); energy: total potential energy (or None); forces (N, d)
    or None; model: the model name the file names (or "")."""

    x: np.ndarray
    L: float
    species: np.ndarray
    diameter: np.ndarray | None = None
    energy: float | None = None
    forces: np.ndarray | None = None
    model: str = ""

    @property
    def N(self) -> int:
        return self.x.shape[0]

    @property
    def d(self) -> int:
        return self.x.shape[1]


def _f(v) -> str:
    return repr(float(v))


def _cubic(path: str, edges) -> float:
    edges = [float(e) for e in edges]
    if not all(np.isfinite(edges)) or min(edges) <= 0:
        raise ConfigurationError(f"{path}: box edges {edges}: expected positive finite lengths")
    if max(edges) - min(edges) > 1e-12 * max(edges):
        raise ConfigurationError(f"{path}: box edges {edges}: hpcglass needs a cubic (hypercubic) box")
    return edges[0]


def wrap_box(x: np.ndarray, L: float) -> np.ndarray:
    """Positions into [0, L) without touching those already inside (bit-exact round trips)."""
    x = np.array(x, dtype=np.float64)
    out = (x < 0) | (x >= L)
    x[out] = np.mod(x[out], L)
    x[x >= L] = 0.0
    return x


def _species_index(path: str, names, model: str) -> np.ndarray:
    """Map species labels (names like "A", or type numbers 1, 2, ...) to type indices."""
    known = SPECIES_NAMES.get(model)
    out = np.empty(len(names), dtype=np.int64)
    for k, s in enumerate(names):
        s = str(s)
        if known is not None and s in known:
            out[k] = known.index(s)
        elif s.isdigit() and known is not None and 1 <= int(s) <= len(known):
            out[k] = int(s) - 1
        elif known is None and s.isdigit():
            out[k] = int(s) - 1
        else:
            allowed = ", ".join(known) if known else "type numbers"
            raise ConfigurationError(f"{path}: atom {k + 1}: unknown species {s!r} for model {model or '?'} "
                                     f"(expected {allowed} or 1..{len(known) if known else 'n'})")
    return out


# ----------------------------------------------------------------------------- extended XYZ
def write_extxyz(path: str, conf: Configuration, model: str) -> None:
    """Extended XYZ (one frame): species names, positions, diameters (POLY), forces and energy where known."""
    d = conf.d
    if d not in (2, 3):
        raise ConfigurationError(f"{path}: extxyz holds 2D or 3D configurations, not d = {d}; use h5md")
    names = SPECIES_NAMES[model]
    x3 = np.zeros((conf.N, 3))
    x3[:, :d] = conf.x
    lat = np.diag([conf.L, conf.L, conf.L if d == 3 else 1.0])
    # ASE wants chemical symbols in "species": "X" (no element) there, the type (1-based, as in
    # LAMMPS) in "type", and its names in the key species_names
    props = ["species:S:1", "pos:R:3", "type:I:1"]
    cols = [np.array(["X"] * conf.N, dtype=object), x3, (conf.species + 1)[:, None]]
    if conf.diameter is not None and _sized(model):
        props.append("diameter:R:1")
        cols.append(conf.diameter[:, None])
    if conf.forces is not None:
        f3 = np.zeros((conf.N, 3))
        f3[:, :d] = conf.forces
        props.append("forces:R:3")
        cols.append(f3)
    head = [f'Lattice="{" ".join(_f(v) for v in lat.ravel())}"', f"Properties={':'.join(props)}",
            f'pbc="T T {"T" if d == 3 else "F"}"', f"model={model}", f"dimension={d}",
            f'species_names="{" ".join(names)}"']
    if conf.energy is not None:
        head.append(f"energy={_f(conf.energy)}")
    with open(path, "w") as fh:
        fh.write(f"{conf.N}\n{' '.join(head)}\n")
        for k in range(conf.N):
            parts = [cols[0][k]]
            for c in cols[1:]:
                parts += [str(v) if c.dtype.kind == "i" else _f(v) for v in np.atleast_1d(c[k])]
            fh.write(" ".join(parts) + "\n")


def read_extxyz(path: str, model: str = "") -> Configuration:
    with open(path) as fh:
        lines = fh.read().splitlines()
    try:
        N = int(lines[0].split()[0])
        kv = dict(tok.split("=", 1) for tok in shlex.split(lines[1]) if "=" in tok)
    except (IndexError, ValueError) as exc:
        raise ConfigurationError(f"{path}: not an extended XYZ file ({exc})") from None
    body = [ln.split() for ln in lines[2:2 + N] if ln.strip()]
    if len(body) != N:
        raise ConfigurationError(f"{path}: header says {N} atoms, the file has {len(body)} atom lines")
    model = model or kv.get("model", "")
    d = int(kv.get("dimension", 3))
    lat = np.array([float(v) for v in kv.get("Lattice", "").split()])
    if lat.size != 9:
        raise ConfigurationError(f"{path}: no Lattice with 9 numbers (hpcglass needs the periodic box)")
    lat = lat.reshape(3, 3)
    if np.any(lat[~np.eye(3, dtype=bool)] != 0):
        raise ConfigurationError(f"{path}: Lattice is not orthogonal; hpcglass needs a cubic box")
    L = _cubic(path, np.diag(lat)[:d])
    cols, pos = {}, 0
    spec = kv.get("Properties", "species:S:1:pos:R:3").split(":")
    for name, typ, n in zip(spec[0::3], spec[1::3], spec[2::3]):
        n = int(n)
        cols[name] = (typ, pos, n)
        pos += n
    if "pos" not in cols or "species" not in cols:
        raise ConfigurationError(f"{path}: Properties lack species or pos")
    if any(len(r) != pos for r in body):
        raise ConfigurationError(f"{path}: atom lines do not have the {pos} columns Properties names")

    def col(name):
        _, a, n = cols[name]
        try:
            return np.array([[float(v) for v in r[a:a + n]] for r in body])
        except ValueError as exc:
            raise ConfigurationError(f"{path}: column {name}: {exc}") from None

    x = col("pos")[:, :d]
    which = "type" if "type" in cols else "species"
    species = _species_index(path, [r[cols[which][1]] for r in body], model)
    return Configuration(
        x=x, L=L, species=species, model=model,
        diameter=col("diameter")[:, 0] if "diameter" in cols else None,
        forces=col("forces")[:, :d] if "forces" in cols else None,
        energy=float(kv["energy"]) if "energy" in kv else None,
    )


# ----------------------------------------------------------------------------- H5MD (one configuration)
def write_h5md(path: str, conf: Configuration, model: str) -> None:
    """H5MD 1.1 file with one particles group 'all' holding one frame (step 0): position, species,
    diameter (POLY), force where known; box with dimension, boundary and edges; the potential
    energy under /observables/all/potential_energy.  Any dimension."""
    import h5py

    from . import __version__
    from .store import _author

    with h5py.File(path, "w") as h5:
        meta = h5.create_group("h5md")
        meta.attrs["version"] = np.array([1, 1], dtype="i4")
        meta.create_group("author").attrs["name"] = _author()
        cr = meta.create_group("creator")
        cr.attrs["name"], cr.attrs["version"] = "hpcglass", str(__version__)
        g = h5.create_group("particles/all")
        g.attrs["model"] = model
        box = g.create_group("box")
        box.attrs["dimension"] = np.int32(conf.d)
        box.attrs["boundary"] = np.array([b"periodic"] * conf.d, dtype="S8")
        box.create_dataset("edges", data=np.full(conf.d, float(conf.L)))

        def element(parent, name, value):
            e = parent.create_group(name)
            e.create_dataset("value", data=np.asarray(value)[None])
            e.create_dataset("step", data=np.array([0], dtype="i8"))

        element(g, "position", conf.x)
        element(g, "species", conf.species)
        if conf.diameter is not None:
            element(g, "diameter", conf.diameter)
        if conf.forces is not None:
            element(g, "force", conf.forces)
        if conf.energy is not None:
            element(h5.require_group("observables/all"), "potential_energy", np.float64(conf.energy))


def read_h5md(path: str, model: str = "", frame: int = -1, group: str = "") -> Configuration:
    """One frame (default: the last) of an H5MD file's particles group (default: the only one)."""
    import h5py

    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise ConfigurationError(f"{path}: not an HDF5 file ({exc})") from None
    with h5:
        if "h5md" not in h5 or "particles" not in h5:
            raise ConfigurationError(f"{path}: not an H5MD file (no /h5md or /particles)")
        names = list(h5["particles"])
        if not group:
            if len(names) != 1:
                raise ConfigurationError(f"{path}: {len(names)} particles groups {names}; name one")
            group = names[0]
        g = h5["particles"][group]
        model = model or str(g.attrs.get("model", ""))

        def value(name):
            obj = g[name]
            return obj["value"][frame] if isinstance(obj, h5py.Group) else obj[()]

        d = int(g["box"].attrs["dimension"])
        bnd = [b.decode() if isinstance(b, bytes) else str(b) for b in g["box"].attrs["boundary"]]
        if any(b != "periodic" for b in bnd):
            raise ConfigurationError(f"{path}: box boundary {bnd}: hpcglass needs a periodic box")
        edges = value("box/edges") if "edges" in g["box"] else None
        if edges is None or np.ndim(edges) != 1:
            raise ConfigurationError(f"{path}: box edges missing or not a vector (non-cubic boxes are not supported)")
        L = _cubic(path, edges)
        x = np.asarray(value("position"), dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != d:
            raise ConfigurationError(f"{path}: position has shape {x.shape}, expected (N, {d})")
        species = np.asarray(value("species")) if "species" in g else np.zeros(len(x), dtype=np.int64)
        known = SPECIES_NAMES.get(model, ())
        if known and (species.min() < 0 or species.max() >= len(known)):
            bad = int(species[(species < 0) | (species >= len(known))][0])
            raise ConfigurationError(f"{path}: unknown species {bad} for model {model} (expected 0..{len(known) - 1})")
        diam = np.asarray(value("diameter"), dtype=np.float64) if "diameter" in g else None
        forces = np.asarray(value("force"), dtype=np.float64) if "force" in g else None
        energy = None
        obs = f"observables/{group}/potential_energy"
        if obs in h5:
            energy = float(h5[obs]["value"][frame])
    return Configuration(x=x, L=L, species=species.astype(np.int64), diameter=diam, energy=energy,
                         forces=forces, model=model)


# ----------------------------------------------------------------------------- dispatch and checks
def guess_format(path: str) -> str:
    low = path.lower()
    if low.endswith((".xyz", ".extxyz")):
        return "extxyz"
    if low.endswith((".h5", ".h5md", ".hdf5")):
        return "h5md"
    if low.endswith((".data", ".lmp", ".lammps")) or "data" in low.rsplit("/", 1)[-1]:
        return "lammps-data"
    raise ConfigurationError(f"{path}: cannot tell the format from the name (.xyz/.extxyz, .data/.lmp, .h5/.h5md)")


def read_configuration(path: str, model: str, fmt: str = "", d: int = 0) -> Configuration:
    """Read one configuration file (format from ``fmt`` or the file name); every failure is a
    ConfigurationError naming the file."""
    from .lammps_io import read_lammps_data  # lammps_io imports this module

    fmt = fmt or guess_format(path)
    try:
        if fmt == "extxyz":
            return read_extxyz(path, model)
        if fmt == "lammps-data":
            return read_lammps_data(path, model, d)
        if fmt == "h5md":
            return read_h5md(path, model)
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror or exc}") from None
    raise ConfigurationError(f"{path}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write_configuration(path: str, conf: Configuration, model: str, fmt: str) -> None:
    from .lammps_io import write_lammps_data  # lammps_io imports this module

    if fmt == "extxyz":
        write_extxyz(path, conf, model)
    elif fmt == "lammps-data":
        write_lammps_data(path, conf, model)
    elif fmt == "h5md":
        write_h5md(path, conf, model)
    else:
        raise ConfigurationError(f"{path}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def check_configuration(path: str, conf: Configuration, model, N: int = 0, d: int = 0) -> None:
    """The checks a configuration must pass before a model can be evaluated on it: atom count
    (``N`` when > 0), dimension, finite positions, species in range, sizes (POLY), box side above
    twice the largest cutoff.  ``model`` is a PairModel built for this configuration."""
    if N and conf.N != N:
        raise ConfigurationError(f"{path}: wrong atom count: {conf.N} atoms, the ensemble has N = {N}")
    if d and conf.d != d:
        raise ConfigurationError(f"{path}: dimension {conf.d}, the ensemble has d = {d}")
    bad = ~np.isfinite(conf.x).all(axis=1)
    if bad.any():
        raise ConfigurationError(f"{path}: non-finite position of atom {int(np.flatnonzero(bad)[0]) + 1} "
                                 f"({int(bad.sum())} atoms)")
    if model.poly and (conf.diameter is None or not np.all(np.isfinite(conf.diameter) & (conf.diameter > 0))):
        raise ConfigurationError(f"{path}: poly needs a positive finite size (diameter) per atom")
    rc = model.max_cutoff
    if not conf.L > 2 * rc:
        raise ConfigurationError(f"{path}: box too small for the cutoff: L = {conf.L:.6g} <= 2 x cutoff {rc:.6g}")


def _sized(model: str) -> bool:
    """True for a model whose particles carry sizes (polydisperse) rather than species."""
    return model in MODELS and MODELS[model].polydisperse


def model_for(conf: Configuration, name: str):
    """The named model (ipl, poly, kablj) on this configuration's box, species and sizes."""
    from .models import make_model

    m = make_model(name, conf.d, conf.N, conf.N / conf.L**conf.d, np.random.default_rng(0), size_method="quantile")
    sizes = conf.diameter if m.poly and conf.diameter is not None else m.sizes
    species = conf.species if not m.poly else np.zeros(conf.N, dtype=np.int64)
    return type(m)(**{**m.__dict__, "L": float(conf.L), "species": np.ascontiguousarray(species, dtype=np.int64),
                      "sizes": np.ascontiguousarray(sizes, dtype=np.float64)})


def from_run_file(path: str, ensemble: str, sample: int) -> tuple[Configuration, str]:
    """Sample ``sample`` (0-based position in the ensemble) of a glass or analyse ensemble of a run
    file: its configuration (energy = N x the stored U/N) and the model name."""
    import json

    import h5py

    with h5py.File(path, "r") as h5:
        if f"ensembles/{ensemble}" not in h5:
            have = ", ".join(h5.get("ensembles", {}))
            raise ConfigurationError(f"{path}: no ensemble {ensemble!r} (ensembles: {have})")
        g = h5["ensembles"][ensemble]
        if "position" not in g:
            raise ConfigurationError(f"{path}: ensemble {ensemble!r} stores no configurations (kind {g.attrs['kind']})")
        nt = g["task_index"].shape[0]
        if not 0 <= sample < nt:
            raise ConfigurationError(f"{path}: ensemble {ensemble!r} has samples 0..{nt - 1}, not {sample}")
        if g["status"][sample] != b"done":
            raise ConfigurationError(f"{path}: ensemble {ensemble!r} sample {sample} failed; it has no configuration")
        model = json.loads(g.attrs["params"])["model"]
        x = g["position"][sample]
        conf = Configuration(
            x=x, L=float(g["box"][sample]), species=g["species"][sample].astype(np.int64),
            diameter=g["diameter"][sample] if _sized(model) else None,
            energy=float(g["energy"][sample]) * x.shape[0] if "energy" in g else None, model=model)
    return conf, model
