"""Shard records: round trip, and a truncated tail (job killed mid-write) is ignored."""

import numpy as np

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
    assert store.prepare(out, "a", "sha-a", 3, resume=False, overwrite=False) == (0, {})
    for kwargs, needle in [({"resume": False}, "unfinished run"), ({"resume": True}, None)]:
        if needle:
            try:
                store.prepare(out, "a", "sha-a", 3, overwrite=False, **kwargs)
            except store.StoreError as exc:
                assert needle in str(exc)
            else:
                raise AssertionError("prepare accepted an existing parts directory")
    assert store.prepare(out, "a", "sha-a", 3, resume=True, overwrite=False) == (1, {})
    try:
        store.prepare(out, "b", "sha-b", 3, resume=True, overwrite=False)
    except store.StoreError as exc:
        assert "different input" in str(exc)
    else:
        raise AssertionError("resume accepted another input's work")
