"""Independent random streams per stage of a glass task (docs/output.md, "Random streams"):
stage k of task i draws from SeedSequence(root_seed, spawn_key=(i, k)), so a stage that draws
more or fewer numbers (a longer equilibration) leaves every other stage's numbers unchanged."""

import numpy as np
import pytest

from hpcglass import glass
from hpcglass.config import parse_config
from hpcglass.models import make_model
from hpcglass.tasks import expand

POLY = """
run: {{seed: 17}}
ensembles:
  - {{name: p, kind: glass, model: poly, d: 2, N: 100, samples: 2, T_p: 0.5, equilibration: {eq},
     pairs: random, n_pairs: 6, shear_modulus: false}}
"""


def _task(eq, k=1):
    return expand(parse_config(POLY.format(eq=eq), "<t>"))[k]


def test_stage_streams_are_the_documented_children():
    task = _task(5)
    rngs = task.stage_rngs(17, glass.GLASS_STREAMS)
    assert glass.GLASS_STREAMS == ("sizes", "melt", "equilibrate", "velocities", "quench", "pairs")
    for k, name in enumerate(glass.GLASS_STREAMS):
        ref = np.random.default_rng(np.random.SeedSequence(17, spawn_key=(task.index, k)))
        assert np.array_equal(rngs[name].random(8), ref.random(8)), name
    draws = [r.random(4) for r in task.stage_rngs(17, glass.GLASS_STREAMS).values()]
    assert len({d.tobytes() for d in draws}) == len(draws)  # distinct streams


def _spy_run(eq, monkeypatch):
    """run_glass with the rng states that reach the velocity draw and the pair selection."""
    import hpcglass.sampling.md as md

    seen = {}
    real_v, real_h = md.maxwell_velocities, glass.harmonic_stage

    def velocities(N, d, T, rng):
        seen["velocities"] = rng.bit_generator.state
        return real_v(N, d, T, rng)

    def harmonic(pairs, N, V, ens, rng, *args, **kw):
        seen["pairs"] = rng.bit_generator.state
        return real_h(pairs, N, V, ens, rng, *args, **kw)

    monkeypatch.setattr(md, "maxwell_velocities", velocities)
    monkeypatch.setattr(glass, "harmonic_stage", harmonic)
    task = _task(eq)
    return task, glass.run_glass(task, 17), seen


@pytest.mark.parametrize("eq", [5, 40])
def test_a_longer_equilibration_changes_no_other_stream(eq, monkeypatch):
    task, out, seen = _spy_run(eq, monkeypatch)
    fresh = task.stage_rngs(17, glass.GLASS_STREAMS)
    # the velocity and pair streams are untouched by everything that ran before them
    assert seen["velocities"] == fresh["velocities"].bit_generator.state
    assert seen["pairs"] == fresh["pairs"].bit_generator.state
    # POLY sizes: swap MC permutes them; the multiset is the one drawn from the sizes stream
    sizes = make_model("poly", 2, 100, 0.0, fresh["sizes"]).sizes
    assert np.array_equal(np.sort(out["diameter"]), np.sort(sizes))


def test_melt_positions_do_not_depend_on_the_equilibration_length():
    a, b = _task(5), _task(40)
    ra, rb = a.stage_rngs(17, glass.GLASS_STREAMS), b.stage_rngs(17, glass.GLASS_STREAMS)
    sa = glass.melt(a.ensemble, ra["sizes"], ra["melt"])
    sb = glass.melt(b.ensemble, rb["sizes"], rb["melt"])
    assert np.array_equal(sa.x, sb.x) and np.array_equal(sa.model.sizes, sb.model.sizes)
    other = _task(5, k=0)  # another task: other streams
    so = glass.melt(other.ensemble, *other.stage_rngs(17, ("sizes", "melt")).values())
    assert not np.array_equal(so.x, sa.x)
