"""The parts folder of a run (restart bookkeeping) and the collective parallel-HDF5 gather.

While a run is going, results live next to the run file in ``<output>.parts/``:

* ``input.yaml``   the exact input text (a resume must use the same text);
* ``manifest.json`` number of tasks, input hash, attempts;
* ``lock``          held (fcntl) by rank 0 of the live run, naming its host and pid;
* ``attempt-AAA.rank-RRRRR.rec`` one append-only shard per rank and attempt.

The shards and the task records in them (layout, CRCs, what a scan keeps) are
:mod:`hpcglass.shards`'s; this module sets up or reopens the folder (:func:`prepare`) and, from
the records a scan found, writes the run file.

At the end all ranks open one HDF5 file with ``driver='mpio'``, create every dataset
collectively in a fixed order, and each rank writes the rows of the tasks it is assigned with
independent I/O (collective writes can deadlock on zero-row ranks, see docs/output.md).
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
from dataclasses import dataclass, field

import numpy as np

from .shards import STATUS_DONE, StoreError, TaskRecord, scan

SCHEMA_VERSION = 1


def parts_dir_for(output: str) -> str:
    return output + ".parts"


class RunLock:
    """Exclusive fcntl lock on ``<parts>/lock`` held by rank 0 for the whole run; the file names
    the holder (host, pid).  Released by ``release`` or when the process ends, however it ends."""

    def __init__(self, parts_dir: str):
        self.path = os.path.join(parts_dir, "lock")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown holder"
            os.close(fd)
            raise StoreError(f"{parts_dir}: a live run holds it ({holder}); wait for it or stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"host {platform.node()} pid {os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None


@dataclass
class Prepared:
    """A usable parts folder: this attempt's number, the earlier records' {index: status}, the
    scan's note on dropped records, and the lock (rank 0 only; not sent to other ranks)."""

    attempt: int
    earlier: dict[int, str]
    note: str
    lock: RunLock | None = field(default=None, repr=False)


def _locked(parts: str) -> RunLock | None:
    """The run lock of an existing parts folder (StoreError if a live run holds it), else None."""
    return RunLock(parts) if os.path.isdir(parts) else None


def _read_manifest(path: str) -> dict:
    try:
        with open(path) as fh:
            manifest = json.load(fh)
        if not isinstance(manifest, dict) or not {"input_sha256", "n_tasks", "attempts"} <= manifest.keys():
            raise ValueError("keys missing")
        return manifest
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise StoreError(f"{path}: not a manifest of hpcglass ({str(exc)[:80]}); use --overwrite") from None


def prepare(output: str, text: str, text_sha: str, n_tasks: int, resume: bool, overwrite: bool) -> Prepared:
    """Set up (or reopen) the parts directory and take its run lock; rank 0 only.

    Raises StoreError when a live run holds the lock, when the output exists and neither
    ``resume`` nor ``overwrite`` was asked, or when a resume finds the work of a different
    input or an unreadable manifest.
    """
    parts = parts_dir_for(output)
    manifest_path = os.path.join(parts, "manifest.json")
    lock = _locked(parts)
    try:
        return _prepare(output, parts, manifest_path, text, text_sha, n_tasks, resume, overwrite, lock)
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def _prepare(output, parts, manifest_path, text, text_sha, n_tasks, resume, overwrite, lock) -> Prepared:
    if overwrite:
        if os.path.exists(output):
            os.remove(output)
        shutil.rmtree(parts, ignore_errors=True)
        if lock is not None:
            lock.release()
    elif os.path.exists(parts) and resume:
        manifest = _read_manifest(manifest_path)
        if manifest["input_sha256"] != text_sha or manifest["n_tasks"] != n_tasks:
            raise StoreError(
                f"{parts}: holds the work of a different input (sha256 {manifest['input_sha256'][:12]}...); "
                "resume with the same input file, or use --overwrite"
            )
        attempt = manifest["attempts"] + 1
        manifest["attempts"] = attempt
        _write_json(manifest_path, manifest)
        found = scan(parts, text_sha)
        return Prepared(attempt, {i: r.status for i, r in sorted(found.records.items())}, found.note(), lock)
    elif os.path.exists(output):
        if resume:
            raise StoreError(f"{output}: the run is already complete; nothing to resume")
        raise StoreError(f"{output}: exists; use --resume to finish a run or --overwrite to start again")
    elif os.path.exists(parts):
        raise StoreError(f"{parts}: an unfinished run is there; use --resume to finish it or --overwrite")
    elif resume:
        raise StoreError(f"{parts}: nothing to resume (no unfinished run for this output)")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    os.makedirs(parts)
    lock = RunLock(parts)
    with open(os.path.join(parts, "input.yaml"), "w") as fh:
        fh.write(text)
    _write_json(manifest_path, {"schema": SCHEMA_VERSION, "input_sha256": text_sha, "n_tasks": n_tasks, "attempts": 0})
    return Prepared(0, {}, "", lock)


def _write_json(path: str, obj) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- gather
@dataclass(frozen=True)
class _FieldPlan:
    dtype: str
    trailing: tuple
    ragged: bool


def _plan_fields(records: list[TaskRecord], ragged: frozenset) -> dict[str, _FieldPlan]:
    plan: dict[str, _FieldPlan] = {}
    for rec in records:
        for name, (dtype, shape) in rec.specs.items():
            is_ragged = name in ragged
            trailing = tuple(shape[1:]) if is_ragged else tuple(shape)
            if name not in plan:
                plan[name] = _FieldPlan(dtype, trailing, is_ragged)
            elif plan[name].trailing != trailing or plan[name].dtype != dtype:
                raise StoreError(f"field {name!r}: task {rec.index} has {dtype}{shape}, others {plan[name]}")
    return plan


def _fill(dtype: str):
    dt = np.dtype(dtype)
    return np.nan if dt.kind in "fc" else 0


def _link_h5md(h5, name: str, nt: int, fields: tuple, plan: dict):
    """H5MD 1.1 view of an ensemble's configurations: one particles group per ensemble,
    /particles/<name>, whose time axis runs over the ensemble's samples (step = task index).

    position/species/diameter are time-dependent elements whose ``value`` is a soft link to the
    ensemble's (n_t, N, ...) dataset and ``step`` a soft link to ``task_index``; the box has the
    attributes ``dimension`` and ``boundary`` (all periodic) and a time-dependent ``edges``
    element with ``value`` (n_t, d), a real dataset (H5MD wants the d edge lengths, the run file
    stores one side L).  Returns that edges dataset (its rows are written like any field), or
    None when the ensemble has no positions (docs/output.md)."""
    import h5py

    if "position" not in plan:
        return None
    d = int(plan["position"].trailing[-1])
    if "h5md" not in h5:
        from . import __version__

        meta = h5.create_group("h5md")
        meta.attrs["version"] = np.array([1, 1], dtype="i4")
        meta.create_group("author").attrs["name"] = _author()
        creator = meta.create_group("creator")
        creator.attrs["name"] = "hpcglass"
        creator.attrs["version"] = str(__version__)
    g = h5.require_group("particles").create_group(name)
    box = g.create_group("box")
    box.attrs["dimension"] = np.int32(d)
    box.attrs["boundary"] = np.array([b"periodic"] * d, dtype="S8")
    edges = box.create_group("edges")
    edges["step"] = h5py.SoftLink(f"/ensembles/{name}/task_index")
    value = edges.create_dataset("value", (nt, d), "f8", fillvalue=np.nan)
    for field in fields:
        if field in plan:
            elem = g.create_group(field)
            elem["value"] = h5py.SoftLink(f"/ensembles/{name}/{field}")
            elem["step"] = h5py.SoftLink(f"/ensembles/{name}/task_index")
    return value


def mine_done(recs: list, rank: int, size: int) -> list:
    """(position in the ensemble, record) of the finished tasks whose rows this rank writes."""
    return [(pos, r) for pos, r in enumerate(recs) if pos % size == rank and r.status == STATUS_DONE]


def gather(comm, output: str, tasks, records: dict[int, TaskRecord], layouts: dict, provenance: dict,
           ensemble_attrs: dict[str, dict]) -> None:
    """Collective over ``comm``: write every task's results into one HDF5 file.

    ``records`` must be the same mapping (task index -> TaskRecord, payloads not loaded) on
    every rank.  The file is written to ``output + '.tmp'`` and renamed by rank 0 once closed,
    so a run file that exists is always complete.
    """
    import h5py

    rank, size = comm.Get_rank(), comm.Get_size()
    tmp = output + ".tmp"
    by_ensemble: dict[str, list] = {}
    for t in tasks:
        by_ensemble.setdefault(t.ensemble.name, []).append(t)
    # One rank with a serial h5py (a Python caller imported h5py before H5PY_ALWAYS_USE_MPI was
    # set) writes the same file without MPI-IO; more ranks need the parallel build.
    mpio = {"driver": "mpio", "comm": comm} if size > 1 or h5py.get_config().mpi else {}
    with h5py.File(tmp, "w", **mpio) as h5:
        h5.attrs["hpcglass_schema"] = SCHEMA_VERSION
        prov = h5.create_group("provenance")
        for k, v in provenance.items():
            prov.attrs[k] = v
        n = len(tasks)
        tg = h5.create_group("tasks")
        ds = {
            "index": tg.create_dataset("index", (n,), "i8"),
            "ensemble": tg.create_dataset("ensemble", (n,), "S64"),
            "status": tg.create_dataset("status", (n,), "S8"),
            "wall_time": tg.create_dataset("wall_time", (n,), "f8"),
            "reason": tg.create_dataset("reason", (n,), "S256"),
            "rank": tg.create_dataset("rank", (n,), "i4"),
            "attempt": tg.create_dataset("attempt", (n,), "i4"),
        }
        if rank == 0:
            recs = [records[t.index] for t in tasks]
            ds["index"][:] = [t.index for t in tasks]
            ds["ensemble"][:] = np.array([t.ensemble.name.encode() for t in tasks], dtype="S64")
            ds["status"][:] = np.array([r.status.encode() for r in recs], dtype="S8")
            ds["wall_time"][:] = [r.wall_time for r in recs]
            ds["reason"][:] = np.array([r.reason.encode()[:256] for r in recs], dtype="S256")
            ds["rank"][:] = [r.rank for r in recs]
            ds["attempt"][:] = [r.attempt for r in recs]
        eg = h5.create_group("ensembles")
        writes = []  # (dataset, selection, record, field) of this rank
        for name, etasks in by_ensemble.items():
            g = eg.create_group(name)
            for k, v in ensemble_attrs[name].items():
                g.attrs[k] = v
            layout = layouts[etasks[0].kind]
            for cname, arr in layout.constants(etasks[0].ensemble).items():
                cds = g.create_dataset(cname, arr.shape, arr.dtype)
                if rank == 0:
                    cds[...] = arr
            recs = [records[t.index] for t in etasks]
            nt = len(etasks)
            g_index = g.create_dataset("task_index", (nt,), "i8")
            g_status = g.create_dataset("status", (nt,), "S8")
            if rank == 0:
                g_index[:] = [t.index for t in etasks]
                g_status[:] = np.array([r.status.encode() for r in recs], dtype="S8")
            plan = _plan_fields([r for r in recs if r.status == STATUS_DONE], layout.ragged)
            for fname, fp in sorted(plan.items()):
                mine = mine_done(recs, rank, size)
                if fp.ragged:
                    lengths = np.array([r.specs[fname][1][0] if fname in r.specs else 0 for r in recs], dtype=np.int64)
                    offsets = np.concatenate([[0], np.cumsum(lengths)])
                    dset = g.create_dataset(fname, (int(offsets[-1]),) + fp.trailing, fp.dtype)
                    odset = g.create_dataset(fname + "_offsets", (nt + 1,), "i8")
                    if rank == 0:
                        odset[:] = offsets
                    writes += [(dset, slice(offsets[pos], offsets[pos + 1]), r, fname) for pos, r in mine]
                else:
                    dset = g.create_dataset(fname, (nt,) + fp.trailing, fp.dtype, fillvalue=_fill(fp.dtype))
                    writes += [(dset, pos, r, fname) for pos, r in mine]
            if layout.h5md and plan:
                edges = _link_h5md(h5, name, nt, layout.h5md, plan)
                if edges is not None and "box" in plan:
                    writes += [(edges, pos, r, "box") for pos, r in mine_done(recs, rank, size)]
        # Independent writes of this rank's rows, record by record so that memory stays bounded.
        writes.sort(key=lambda w: w[2].index)
        loaded: dict[int, dict] = {}
        for dset, sel, rec, fname in writes:
            if rec.index not in loaded:
                loaded.clear()
                loaded[rec.index] = rec.load()
            arr = loaded[rec.index][fname]
            if arr.size:
                if dset.name.endswith("/box/edges/value"):
                    arr = np.full(dset.shape[1], float(arr))  # the hypercube's d edges
                dset[sel] = arr
    comm.Barrier()
    if rank == 0:
        os.replace(tmp, output)
    comm.Barrier()


def _author() -> str:
    """/h5md/author name: the user who ran the job (H5MD requires one)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no passwd entry, no USER: H5MD still needs a name
        return "unknown"
