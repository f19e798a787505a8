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
                                   [-0.5, 0.5) and a title containing "d=2"
    write_h5md / read_h5md         /particles/all/{position,species,diameter,box} with one frame
"""

from __future__ import annotations

import re
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


# ----------------------------------------------------------------------------- LAMMPS data
def write_lammps_data(path: str, conf: Configuration, model: str, v: np.ndarray | None = None,
                      title: str = "") -> None:
    """LAMMPS data file, box [0, L)^d: atom_style atomic (id type x y z, type = species + 1), or
    for POLY atom_style sphere (id type diameter density x y z, diameter = lambda_i, density 1).
    2D: z = 0 in [-0.5, 0.5) and "d=2" in the title (run LAMMPS with `dimension 2`).
    ``v`` (N, d): a Velocities section (the MD benchmark)."""
    d, N = conf.d, conf.N
    if d not in (2, 3):
        raise ConfigurationError(f"{path}: LAMMPS data holds 2D or 3D configurations, not d = {d}; use h5md")
    ntypes = len(SPECIES_NAMES[model])
    x3 = np.zeros((N, 3))
    x3[:, :d] = conf.x
    ids = np.arange(1, N + 1)
    head = title or f"{model.upper()} N={N} from hpcglass"
    head += f" model={model} d={d}"
    if conf.energy is not None:
        head += f" energy={_f(conf.energy)}"
    sphere = _sized(model)
    with open(path, "w") as fh:
        fh.write(f"{head}\n\n{N} atoms\n{ntypes} atom types\n\n")
        for ax in "xy" if d == 2 else "xyz":
            fh.write(f"0 {_f(conf.L)} {ax}lo {ax}hi\n")
        if d == 2:
            fh.write("-0.5 0.5 zlo zhi\n")
        if not sphere:
            fh.write("\nMasses\n\n" + "".join(f"{t} 1.0\n" for t in range(1, ntypes + 1)))
        fh.write(f"\nAtoms # {'sphere' if sphere else 'atomic'}\n\n")
        for k in range(N):
            extra = f"{_f(conf.diameter[k])} 1.0 " if sphere else ""
            fh.write(f"{ids[k]} {conf.species[k] + 1} {extra}{' '.join(_f(c) for c in x3[k])}\n")
        if v is not None:
            v3 = np.zeros((N, 3))
            v3[:, :d] = v
            fh.write("\nVelocities\n\n")
            for k in range(N):
                fh.write(f"{ids[k]} {' '.join(_f(c) for c in v3[k])}\n")


_SECTIONS = ("Atoms", "Velocities", "Masses", "Pair Coeffs", "PairIJ Coeffs", "Bonds", "Angles")


def read_lammps_data(path: str, model: str = "", d: int = 0) -> Configuration:
    """A LAMMPS data file with atom_style atomic or sphere (as LAMMPS's write_data writes them; image
    flags ignored, positions wrapped into the box).  d: 2 if the title says d=2 or ``d`` = 2, else 3."""
    with open(path) as fh:
        lines = fh.read().splitlines()
    if not lines:
        raise ConfigurationError(f"{path}: empty file")
    title = lines[0]
    m = re.search(r"\bd=(\d)", title)
    d = d or (int(m.group(1)) if m else 3)
    mm = re.search(r"\bmodel=(\w+)", title)
    model = model or (mm.group(1) if mm else "")
    me = re.search(r"\benergy=(\S+)", title)
    N = None
    lo, hi = {}, {}
    k = 1
    while k < len(lines):
        ln = lines[k].split("#")[0].strip()
        if ln.split() and ln.split()[0] in _SECTIONS or (ln and ln.split()[0] in ("Pair", "PairIJ")):
            break
        t = ln.split()
        if len(t) == 2 and t[1] == "atoms":
            N = int(t[0])
        elif len(t) == 4 and t[2].endswith("lo") and t[3].endswith("hi"):
            lo[t[2][0]], hi[t[2][0]] = float(t[0]), float(t[1])
        elif len(t) == 6 and t[3:] == ["xy", "xz", "yz"] and any(float(v) != 0 for v in t[:3]):
            raise ConfigurationError(f"{path}: triclinic box (tilts {t[:3]}); hpcglass needs a cubic box")
        k += 1
    if N is None:
        raise ConfigurationError(f"{path}: no 'N atoms' line in the header")
    axes = "xyz"[:d]
    if any(a not in lo for a in axes):
        raise ConfigurationError(f"{path}: box bounds for {axes} missing in the header")
    L = _cubic(path, [hi[a] - lo[a] for a in axes])
    origin = np.array([lo[a] for a in axes])
    rows, style = [], "atomic"
    while k < len(lines):
        head = lines[k].split("#")
        if head[0].strip() == "Atoms":
            if len(head) > 1 and head[1].strip():
                style = head[1].strip()
            k += 2
            while k < len(lines) and lines[k].strip():
                rows.append(lines[k].split("#")[0].split())
                k += 1
            break
        k += 1
    if style not in ("atomic", "sphere"):
        raise ConfigurationError(f"{path}: atom_style {style!r}: expected atomic or sphere")
    if len(rows) != N:
        raise ConfigurationError(f"{path}: header says {N} atoms, the Atoms section has {len(rows)}")
    try:
        rows.sort(key=lambda r: int(r[0]))
        types = [r[1] for r in rows]
        c0 = 4 if style == "sphere" else 2
        x = np.array([[float(v) for v in r[c0:c0 + 3]] for r in rows])[:, :d]
        diam = np.array([float(r[2]) for r in rows]) if style == "sphere" else None
    except (ValueError, IndexError) as exc:
        raise ConfigurationError(f"{path}: Atoms section: {exc}") from None
    if np.any(origin != 0):
        x = x - origin
    return Configuration(x=x, L=L, species=_species_index(path, types, model), diameter=diam,
                         energy=float(me.group(1)) if me else None, model=model)


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


# ----------------------------------------------------------------------------- LAMMPS potentials
# Type pairs of the binary models (IPL, KABLJ) as LAMMPS numbers them (type = species + 1).
LAMMPS_TYPE_PAIRS = (("AA", 0, 0), ("AB", 0, 1), ("BB", 1, 1))


def write_lammps_table(path: str, model, n: int, r_inner: float = 0.3, fp: bool = False) -> None:
    """The model's pair potential (binary models) as a LAMMPS `pair_style table` file: one section
    per type pair (AA, AB, BB) with phi and -phi' from hpcglass's own pair_phi on n points evenly
    spaced in r^2 (the RSQ grid LAMMPS interpolates on, so the file points are its nodes) from
    r_inner lambda_ij to the cutoff x_c lambda_ij, where phi and phi' vanish.

    fp: also write LAMMPS's ``FPRIME`` keyword, the exact derivative of the force -phi'' at both ends;
    without it LAMMPS estimates the spline's end slopes by finite differences, which makes the
    force error near r_inner decay only as 1/n^2 (measured in hpcglass.sampling.lammps_engine)."""
    from .kernels.pair import pair_phi
    from .potentials import padded

    c = padded(model.coeffs)
    if model.poly:
        raise ValueError("a LAMMPS table needs a binary model (ipl, kablj), not poly")
    with open(path, "w") as fh:
        for name, a, b in LAMMPS_TYPE_PAIRS:
            lam, eps = float(model.lam[a, b]), float(model.eps[a, b])
            lo, rc = r_inner * lam, model.xc * lam
            r = np.sqrt(np.linspace(lo * lo, rc * rc, n))
            e, f = np.empty(n), np.empty(n)
            for k in range(n):
                e[k], d1, _ = pair_phi(r[k], lam, eps, model.base, model.xc, *c)
                f[k] = -d1
            ends = ""
            if fp:
                fplo, fphi = (-pair_phi(rr, lam, eps, model.base, model.xc, *c)[2] for rr in (lo, rc))
                ends = f" FPRIME {fplo!r} {fphi!r}"
            fh.write(f"\n{name}\nN {n} RSQ {lo!r} {rc!r}{ends}\n\n")
            np.savetxt(fh, np.column_stack([np.arange(1, n + 1), r, e, f]), fmt=["%d", "%.17g", "%.17g", "%.17g"])


def lammps_pair_lines(model, style: str, n: int = 20000, table_style: str = "spline",
                      table_file: str = "table.txt") -> str:
    """LAMMPS pair_style/pair_coeff lines for a binary model: ``table`` (the tabulated potential
    of :func:`write_lammps_table`, the same physics) or ``lj/cut`` (KABLJ coefficients with a
    plain energy shift: equal to make_model('kablj', smoothed=False), not to the smoothed default)."""
    if style == "table":
        lines = [f"pair_style table {table_style} {n}"]
        for name, a, b in LAMMPS_TYPE_PAIRS:
            lines.append(f"pair_coeff {a + 1} {b + 1} {table_file} {name} {model.xc * model.lam[a, b]!r}")
    else:
        lines = [f"pair_style lj/cut {model.xc}"]
        for name, a, b in LAMMPS_TYPE_PAIRS:
            lines.append(f"pair_coeff {a + 1} {b + 1} {model.eps[a, b]!r} {model.lam[a, b]!r} "
                         f"{model.xc * model.lam[a, b]!r}")
        lines.append("pair_modify shift yes")
    return "\n".join(lines)
