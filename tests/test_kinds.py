"""The registry of task kinds (hpcglass.kinds): every kind is declared once, config/tasks/store
ask it, and a result that does not match the declaration fails when its task returns."""

import dataclasses

import numpy as np
import pytest

from hpcglass import config as cfgmod
from hpcglass import driver, kinds, shards
from hpcglass.config import parse_config
from hpcglass.inputfile import ConfigError
from hpcglass.tasks import expand

TEXT = """
run: {seed: 3}
ensembles:
  - {name: lat, kind: lattice, d: 2, L: 7, realizations: 25, batch: 10}
  - {name: g, kind: glass, model: ipl, d: 2, N: 64, samples: 2, T_p: 1.0, equilibration: 0.5, modes: 2}
  - {name: a, kind: analyse, model: ipl, files: [x.xyz, y.xyz, z.xyz]}
"""


def test_every_kind_is_declared_once_and_expands_as_it_counts():
    cfg = parse_config(TEXT, "<t>")
    assert set(kinds.KINDS) == {"lattice", "glass", "analyse"}
    for ens in cfg.ensembles:
        k = kinds.kind_of(ens)
        assert isinstance(ens, k.config) and k.name == ens.kind
        assert cfgmod.task_count(ens) == k.count(ens) == len(k.sizes(ens))
    tasks = expand(cfg)
    assert [t.size for t in tasks if t.kind == "lattice"] == [10, 10, 5]
    assert [t.index for t in tasks] == list(range(3 + 2 + 3))
    assert kinds.KINDS["lattice"].ragged == {"kappa"}
    assert kinds.KINDS["glass"].ragged == kinds.KINDS["analyse"].ragged == {"kappa", "f", "pair_i", "pair_j"}


def test_unknown_kind_names_the_registry():
    with pytest.raises(ConfigError, match=r"ensembles\[0\].kind = 'glas': expected one of analyse, glass, lattice"):
        parse_config("run: {seed: 1}\nensembles:\n  - {name: x, kind: glas}\n", "<t>")


@pytest.fixture(scope="module")
def glass_result():
    cfg = parse_config(TEXT, "<t>")
    task = next(t for t in expand(cfg) if t.kind == "glass")
    return task, kinds.run_task(task, cfg.seed)


def test_real_results_match_their_declaration(glass_result):
    task, out = glass_result
    kinds.kind_of(task.ensemble).check_result(task.ensemble, out)  # the real thing passes
    assert out["position"].shape == (64, 2) and out["eigenvalues"].shape == (2,)
    lat = expand(parse_config(TEXT, "<t>"))[2]
    res = kinds.run_task(lat, 3)
    assert res["kappa"].shape == (5,)
    assert res["hist_counts"].shape == (len(store_edges(lat.ensemble)) - 1,)


def store_edges(ens):
    return kinds.KINDS["lattice"].constants(ens)["hist_edges"]


def test_a_per_pair_field_not_declared_ragged_is_refused(glass_result):
    task, out = glass_result
    glass = kinds.KINDS["glass"]
    n = len(out["kappa"])
    assert n > 1
    # a new per-pair field nobody declared
    with pytest.raises(kinds.ResultLayoutError, match="'pair_r' is not declared"):
        glass.check_result(task.ensemble, out | {"pair_r": np.zeros(n)})
    # kappa declared with a fixed shape instead of RAGGED (as if left out of the ragged set)
    wrong = dataclasses.replace(glass, fields=glass.fields | {"kappa": ("modes",)})
    with pytest.raises(kinds.ResultLayoutError, match=r"'kappa' has shape \(\d+,\), declared \('modes',\) = \(2,\)"):
        wrong.check_result(task.ensemble, out | {"kappa": np.zeros(n + 1)})
    with pytest.raises(kinds.ResultLayoutError, match="lacks declared field"):
        glass.check_result(task.ensemble, {k: v for k, v in out.items() if k != "energy"})


def test_layout_error_is_a_failure_recorded_when_the_task_returns(glass_result, monkeypatch):
    """Through the driver: the task is recorded failed with the field's name in its reason,
    before any gather."""
    task, out = glass_result
    glass = kinds.KINDS["glass"]
    narrowed = dataclasses.replace(glass, fields={k: v for k, v in glass.fields.items() if k != "f"},
                                   run=lambda t, seed, comm=None: out)
    monkeypatch.setitem(kinds.KINDS, "glass", narrowed)
    seen = []
    ok = driver.execute(task, lambda t, team: kinds.run_task(t, 3, team), lambda *a: seen.append(a))
    assert not ok and seen[0][1] == shards.STATUS_FAILED and "'f' is not declared" in seen[0][3]
