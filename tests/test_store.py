"""Shard records: round trip, a truncated tail (job killed mid-write) is ignored, damaged or
foreign records are not counted as finished; the manifest and the run lock."""

import json
import subprocess
import sys

import numpy as np
import pytest

from hpcglass import store


def _write(tmp_path, n):
    w = store.ShardWriter(str(tmp_path), attempt=0, rank=3)
    for i in range(n):
        w.write(i, "done", 0.5 * i, "", {"kappa": np.arange(i, dtype=np.float64), "h": np.array([i, 2 * i]),
                                          "s": np.int64(7)})
    w.write(n, "failed", 1.0, "ValueError: x", {})
    w.close()
    return w.path


def test_round_trip(tmp_path):
    path = _write(tmp_path, 4)
    recs = list(store.read_shard(path))
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
        assert [r.index for r in store.read_shard(path)] == [0, 1, 2, 3]
    assert store.scan_parts(str(tmp_path)).keys() == {0, 1, 2, 3}


def test_prepare_refuses_clobber_and_foreign_resume(tmp_path):
    out = str(tmp_path / "r.h5")
    first = store.prepare(out, "a", "sha-a", 3, resume=False, overwrite=False)
    assert (first.attempt, first.earlier) == (0, {})
    first.lock.release()
    for kwargs, needle in [({"resume": False}, "unfinished run"), ({"resume": True}, None)]:
        if needle:
            try:
                store.prepare(out, "a", "sha-a", 3, overwrite=False, **kwargs)
            except store.StoreError as exc:
                assert needle in str(exc)
            else:
                raise AssertionError("prepare accepted an existing parts directory")
    again = store.prepare(out, "a", "sha-a", 3, resume=True, overwrite=False)
    assert (again.attempt, again.earlier) == (1, {})
    again.lock.release()
    try:
        store.prepare(out, "b", "sha-b", 3, resume=True, overwrite=False)
    except store.StoreError as exc:
        assert "different input" in str(exc)
    else:
        raise AssertionError("resume accepted another input's work")


def test_scan_drops_damaged_payloads_and_other_inputs(tmp_path):
    w = store.ShardWriter(str(tmp_path), attempt=0, rank=0, input_sha256="sha-a")
    for i in range(3):
        w.write(i, "done", 0.1, "", {"kappa": np.full(4, float(i))})
    w.close()
    data = bytearray(open(w.path, "rb").read())
    rec1 = [r for r in store.read_shard(w.path) if r.index == 1][0]
    data[rec1.payload_offset + 5] ^= 0x01  # one flipped bit in task 1's payload
    open(w.path, "wb").write(bytes(data))
    found = store.scan(str(tmp_path), "sha-a")
    assert found.records.keys() == {0, 2} and found.damaged == 1 and "1 with a damaged payload" in found.note()
    copied = store.ShardWriter(str(tmp_path), attempt=1, rank=0, input_sha256="sha-b")
    copied.write(1, "done", 0.1, "", {"kappa": np.zeros(4)})
    copied.close()
    found = store.scan(str(tmp_path), "sha-a")
    assert found.records.keys() == {0, 2} and found.foreign == 1 and "1 of another input" in found.note()


def test_manifest_that_is_not_json_is_a_store_error(tmp_path):
    out = str(tmp_path / "r.h5")
    store.prepare(out, "a", "sha-a", 3, resume=False, overwrite=False).lock.release()
    (tmp_path / "r.h5.parts" / "manifest.json").write_text("{not json")
    with pytest.raises(store.StoreError, match="manifest.json: not a manifest of hpcglass"):
        store.prepare(out, "a", "sha-a", 3, resume=True, overwrite=False)


def test_run_lock_refuses_a_second_run_and_names_the_holder(tmp_path):
    out = str(tmp_path / "r.h5")
    held = store.prepare(out, "a", "sha-a", 3, resume=False, overwrite=False)
    code = ("import sys; from hpcglass import store\n"
            "try:\n    store.prepare(sys.argv[1], 'a', 'sha-a', 3, resume=sys.argv[2] == 'r', overwrite=sys.argv[2] == 'o')\n"
            "except store.StoreError as e:\n    print(e)\n")
    for mode in ("r", "o", "-"):
        r = subprocess.run([sys.executable, "-c", code, out, mode], capture_output=True, text=True, timeout=60)
        assert "a live run holds it (host " in r.stdout and f"pid {__import__('os').getpid()})" in r.stdout, r
    assert json.load(open(tmp_path / "r.h5.parts" / "manifest.json"))["attempts"] == 0
    held.lock.release()
    r = subprocess.run([sys.executable, "-c", code, out, "r"], capture_output=True, text=True, timeout=60)
    assert r.stdout == "" and r.returncode == 0, r
