"""The parts folder (hpcglass.store): prepare refuses to clobber or to resume another input's
work, the manifest and the run lock."""

import json
import subprocess
import sys

import pytest

from hpcglass import store
from hpcglass.shards import StoreError


def test_prepare_refuses_clobber_and_foreign_resume(tmp_path):
    out = str(tmp_path / "r.h5")
    first = store.prepare(out, "a", "sha-a", 3, resume=False, overwrite=False)
    assert (first.attempt, first.earlier) == (0, {})
    first.lock.release()
    for kwargs, needle in [({"resume": False}, "unfinished run"), ({"resume": True}, None)]:
        if needle:
            try:
                store.prepare(out, "a", "sha-a", 3, overwrite=False, **kwargs)
            except StoreError as exc:
                assert needle in str(exc)
            else:
                raise AssertionError("prepare accepted an existing parts directory")
    again = store.prepare(out, "a", "sha-a", 3, resume=True, overwrite=False)
    assert (again.attempt, again.earlier) == (1, {})
    again.lock.release()
    try:
        store.prepare(out, "b", "sha-b", 3, resume=True, overwrite=False)
    except StoreError as exc:
        assert "different input" in str(exc)
    else:
        raise AssertionError("resume accepted another input's work")


def test_manifest_that_is_not_json_is_a_store_error(tmp_path):
    out = str(tmp_path / "r.h5")
    store.prepare(out, "a", "sha-a", 3, resume=False, overwrite=False).lock.release()
    (tmp_path / "r.h5.parts" / "manifest.json").write_text("{not json")
    with pytest.raises(StoreError, match="manifest.json: not a manifest of hpcglass"):
        store.prepare(out, "a", "sha-a", 3, resume=True, overwrite=False)


def test_run_lock_refuses_a_second_run_and_names_the_holder(tmp_path):
    out = str(tmp_path / "r.h5")
    held = store.prepare(out, "a", "sha-a", 3, resume=False, overwrite=False)
    code = ("import sys; from hpcglass import store; from hpcglass.shards import StoreError\n"
            "try:\n    store.prepare(sys.argv[1], 'a', 'sha-a', 3, resume=sys.argv[2] == 'r', overwrite=sys.argv[2] == 'o')\n"
            "except StoreError as e:\n    print(e)\n")
    for mode in ("r", "o", "-"):
        r = subprocess.run([sys.executable, "-c", code, out, mode], capture_output=True, text=True, timeout=60)
        assert "a live run holds it (host " in r.stdout and f"pid {__import__('os').getpid()})" in r.stdout, r
    assert json.load(open(tmp_path / "r.h5.parts" / "manifest.json"))["attempts"] == 0
    held.lock.release()
    r = subprocess.run([sys.executable, "-c", code, out, "r"], capture_output=True, text=True, timeout=60)
    assert r.stdout == "" and r.returncode == 0, r
