"""Task records and the per-rank shard files that hold them while a run is going.

Contract: a finished (or failed) task is one record, appended by :class:`ShardWriter` to the
shard ``attempt-AAA.rank-RRRRR.rec`` of its rank and attempt, and flushed and fsync'ed before
``write`` returns, so a killed job loses at most the tasks that were running.  A record is::

    b"HGR1" | uint32 meta_len | uint64 payload_len | uint32 crc(meta) | uint32 crc(payload) | meta | payload

with ``meta`` a JSON header (task index, status, wall time, reason, rank, attempt, sha256 of the
input text, field dtypes and shapes) and ``payload`` the raw C-ordered bytes of the fields in
header order.  :func:`read_shard` stops quietly at a truncated tail (the record being written
when the job died: its lengths or header CRC do not check out); :func:`scan` reads every shard
of a folder, drops records whose payload fails its CRC or whose input hash is not the run's (a
shard copied from another run), and keeps one record per task.  Records are loaded lazily
(:meth:`TaskRecord.load`), so a scan holds headers only.

This module knows only files of records: the parts folder around them (manifest, lock, resume)
and the HDF5 gather are :mod:`hpcglass.store`'s.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

_MAGIC = b"HGR1"
_HEADER = struct.Struct("<4sIQII")
STATUS_DONE = "done"
STATUS_FAILED = "failed"


class StoreError(RuntimeError):
    """The output location is not usable as asked (exists, belongs to another input, ...), or a
    record's payload is damaged when it is loaded.  Defined here, below :mod:`hpcglass.store`,
    because :meth:`TaskRecord.load` raises it; store raises it for the parts folder and the gather."""


@dataclass
class TaskRecord:
    """What a finished (or failed) task leaves behind; ``fields`` is None until loaded."""

    index: int
    status: str
    wall_time: float
    reason: str
    rank: int
    attempt: int
    specs: dict  # field name -> (dtype str, shape list)
    path: str = ""
    payload_offset: int = 0
    payload_len: int = 0
    payload_crc: int = 0
    input_sha256: str = ""
    fields: dict | None = field(default=None, repr=False)

    def payload_ok(self) -> bool:
        """Whether the payload on disk is complete and passes its CRC (reads it once)."""
        with open(self.path, "rb") as fh:
            fh.seek(self.payload_offset)
            payload = fh.read(self.payload_len)
        return len(payload) == self.payload_len and zlib.crc32(payload) == self.payload_crc

    def load(self) -> dict:
        """Read and check this record's arrays from its shard file."""
        if self.fields is not None:
            return self.fields
        with open(self.path, "rb") as fh:
            fh.seek(self.payload_offset)
            payload = fh.read(self.payload_len)
        if len(payload) != self.payload_len or zlib.crc32(payload) != self.payload_crc:
            raise StoreError(f"{self.path}: task {self.index}: payload damaged")
        out, pos = {}, 0
        for name, (dtype, shape) in self.specs.items():
            dt = np.dtype(dtype)
            n = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
            out[name] = np.frombuffer(payload, dtype=dt, count=n // dt.itemsize, offset=pos).reshape(shape)
            pos += n
        return out


def encode_record(index: int, status: str, wall_time: float, reason: str, rank: int, attempt: int,
                  fields: dict, input_sha256: str = "") -> bytes:
    """Serialize one task result (see the module docstring for the layout)."""
    arrays = {k: np.asarray(v) for k, v in fields.items()}
    meta = {
        "index": index, "status": status, "wall_time": wall_time, "reason": reason,
        "rank": rank, "attempt": attempt, "input_sha256": input_sha256,
        "fields": {k: [a.dtype.str, list(a.shape)] for k, a in arrays.items()},
    }
    mbytes = json.dumps(meta).encode()
    payload = b"".join(a.tobytes() for a in arrays.values())
    head = _HEADER.pack(_MAGIC, len(mbytes), len(payload), zlib.crc32(mbytes), zlib.crc32(payload))
    return head + mbytes + payload


def read_shard(path: str) -> Iterator[TaskRecord]:
    """Records of one shard, stopping quietly at a truncated or damaged tail."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        pos = 0
        while pos + _HEADER.size <= size:
            fh.seek(pos)
            magic, mlen, plen, mcrc, pcrc = _HEADER.unpack(fh.read(_HEADER.size))
            end = pos + _HEADER.size + mlen + plen
            if magic != _MAGIC or end > size:
                return
            mbytes = fh.read(mlen)
            if zlib.crc32(mbytes) != mcrc:
                return
            meta = json.loads(mbytes)
            yield TaskRecord(
                index=meta["index"], status=meta["status"], wall_time=meta["wall_time"],
                reason=meta["reason"], rank=meta["rank"], attempt=meta["attempt"],
                specs={k: (v[0], v[1]) for k, v in meta["fields"].items()},
                path=path, payload_offset=pos + _HEADER.size + mlen, payload_len=plen, payload_crc=pcrc,
                input_sha256=meta.get("input_sha256", ""),
            )
            pos = end


class ShardWriter:
    """Append-only shard of one rank in one attempt; every record is on disk when ``write`` returns."""

    def __init__(self, parts_dir: str, attempt: int, rank: int, input_sha256: str = ""):
        self.attempt, self.rank, self.input_sha256 = attempt, rank, input_sha256
        self.path = os.path.join(parts_dir, f"attempt-{attempt:03d}.rank-{rank:05d}.rec")
        self._fh = open(self.path, "ab")

    def write(self, index: int, status: str, wall_time: float, reason: str, fields: dict) -> None:
        self._fh.write(encode_record(index, status, wall_time, reason, self.rank, self.attempt, fields,
                                     self.input_sha256))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


@dataclass
class Scan:
    """What the shards of a parts folder hold: usable records, and how many were dropped."""

    records: dict[int, TaskRecord]
    damaged: int = 0       # payload fails its CRC
    foreign: int = 0       # written for another input (hash differs or is missing)

    def note(self) -> str:
        """'' or a clause for the progress line naming the dropped records."""
        parts = [f"{n} {what}" for n, what in ((self.damaged, "with a damaged payload"),
                                                (self.foreign, "of another input")) if n]
        return f"; ignored records (tasks redone): {', '.join(parts)}" if parts else ""


def scan(parts_dir: str, input_sha256: str | None = None) -> Scan:
    """Finished tasks found in all shards of all attempts, one record per task: a done record
    beats a failed one (a failed task redone by ``--retry-failed``); among done records the
    first attempt's wins, among failed ones the last attempt's (its reason is the newest).

    Records whose payload fails its CRC, or (when ``input_sha256`` is given) that carry another
    input hash, are dropped and counted, so their tasks count as not finished."""
    out = Scan({})
    found = out.records
    for name in sorted(os.listdir(parts_dir)):
        if name.endswith(".rec"):
            for rec in read_shard(os.path.join(parts_dir, name)):
                if input_sha256 is not None and rec.input_sha256 != input_sha256:
                    out.foreign += 1
                    continue
                if not rec.payload_ok():
                    out.damaged += 1
                    continue
                old = found.get(rec.index)
                if old is None or (old.status != STATUS_DONE and
                                   (rec.status == STATUS_DONE or rec.attempt >= old.attempt)):
                    found[rec.index] = rec
    return out


def scan_parts(parts_dir: str, input_sha256: str | None = None) -> dict[int, TaskRecord]:
    """The usable records of ``scan``: task index -> record."""
    return scan(parts_dir, input_sha256).records
