"""LAMMPS files: data files (configurations in and out) and tabulated pair potentials.

Contract:

* :func:`write_lammps_data` / :func:`read_lammps_data`: one :class:`~hpcglass.configio.Configuration`
  as a LAMMPS data file, box [0, L)^d, atom_style atomic (id type x y z, type = species + 1)
  or, for POLY, sphere (id type diameter density x y z, diameter = lambda_i); d = 2 is written
  as z = 0 in [-0.5, 0.5) with "d=2" in the title.  Floats have 17 significant digits, so a
  round trip is bit-exact; what the reader refuses is a ConfigurationError naming the file.
* :func:`write_lammps_table` / :func:`lammps_pair_lines`: a binary model's pair potential as a
  ``pair_style table`` file and the pair_style/pair_coeff lines that use it (or ``lj/cut``),
  numbered by ``LAMMPS_TYPE_PAIRS``.

The Configuration type, its error and the species and box helpers are
:mod:`hpcglass.configio`'s, whose by-format ``read_configuration`` / ``write_configuration``
import this module when called; this module imports configio, and (to tabulate) the pair
kernel and the potentials, nothing above them.
"""

from __future__ import annotations

import re

import numpy as np

from .configio import SPECIES_NAMES, Configuration, ConfigurationError, _cubic, _f, _sized, _species_index


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
