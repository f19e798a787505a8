"""The glass formers, one module each (ipl, poly, kablj), and the registry that maps the YAML
``model:`` name to its :class:`ModelSpec`.  Configuration, workflows and exchange formats ask
this registry for dimensions, densities, composition rules and species names; adding a model is
one module plus its line in ``MODELS`` (docs/extending.md).
"""

from __future__ import annotations

import numpy as np

from . import ipl, kablj, poly
from .poly import poly_sizes
from .spec import ModelSpec, PairModel

MODELS: dict[str, ModelSpec] = {m.name: m for m in (ipl.MODEL, poly.MODEL, kablj.MODEL)}


def get_model(name: str) -> ModelSpec:
    """The registered model called ``name``; ValueError naming the known ones otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})") from None


def make_model(name: str, d: int, N: int, density: float = 0.0, rng: np.random.Generator | None = None,
               size_method: str = "filter", smoothed: bool = True) -> PairModel:
    """Instantiate the glass former ``name`` for N particles in d dimensions
    (:meth:`ModelSpec.instantiate`; ``density`` 0 is the model's default)."""
    return get_model(name).instantiate(d, N, density, rng, size_method, smoothed)


__all__ = ["MODELS", "ModelSpec", "PairModel", "get_model", "make_model", "poly_sizes"]
