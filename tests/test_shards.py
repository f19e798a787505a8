"""Shard records (hpcglass.shards): round trip, a truncated tail (job killed mid-write) is
ignored, damaged or foreign records are not counted as finished."""

import numpy as np

from hpcglass import shards


def _write(tmp_path, n):
    w = shards.ShardWriter(str(tmp_path), attempt=0, rank=3)
    for i in range(n):
        w.write(i, "done", 0.5 * i, "", {"kappa": np.arange(i, dtype=np.float64), "h": np.array([i, 2 * i]),
                                          "s": np.int64(7)})
    w.write(n, "failed", 1.0, "ValueError: x", {})
    w.close()
    return w.path


def test_round_trip(tmp_path):
    path = _write(tmp_path, 4)
    recs = list(shards.read_shard(path))
    assert [r.index for r in recs] == [0, 1, 2, 3, 4]
    assert recs[4].status == "failed" and recs[4].reason == "ValueError: x" and recs[4].specs == {}
    f = recs[3].load()
    assert f["kappa"].dtype == np.float64 and np.array_equal(f["kappa"], [0.0, 1.0, 2.0])
    assert np.array_equal(f["h"], [3, 6]) and f["s"].shape == () and f["s"] == 7
    assert recs[2].rank == 3 and recs[2].wall_time == 1.0


def test_truncated_tail_is_ignored(tmp_path):
    path = _write(tmp_path, 4)
    data = open(path, "rb").read()
    for cut in (len(data) - 1, len(data) - 30, len(data) - 60):
        open(path, "wb").write(data[:cut])
        assert [r.index for r in shards.read_shard(path)] == [0, 1, 2, 3]
    assert shards.scan_parts(str(tmp_path)).keys() == {0, 1, 2, 3}


def test_scan_drops_damaged_payloads_and_other_inputs(tmp_path):
    w = shards.ShardWriter(str(tmp_path), attempt=0, rank=0, input_sha256="sha-a")
    for i in range(3):
        w.write(i, "done", 0.1, "", {"kappa": np.full(4, float(i))})
    w.close()
    data = bytearray(open(w.path, "rb").read())
    rec1 = [r for r in shards.read_shard(w.path) if r.index == 1][0]
    data[rec1.payload_offset + 5] ^= 0x01  # one flipped bit in task 1's payload
    open(w.path, "wb").write(bytes(data))
    found = shards.scan(str(tmp_path), "sha-a")
    assert found.records.keys() == {0, 2} and found.damaged == 1 and "1 with a damaged payload" in found.note()
    copied = shards.ShardWriter(str(tmp_path), attempt=1, rank=0, input_sha256="sha-b")
    copied.write(1, "done", 0.1, "", {"kappa": np.zeros(4)})
    copied.close()
    found = shards.scan(str(tmp_path), "sha-a")
    assert found.records.keys() == {0, 2} and found.foreign == 1 and "1 of another input" in found.note()
