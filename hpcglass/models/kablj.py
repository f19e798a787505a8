"""KABLJ: the Kob-Andersen 80:20 binary Lennard-Jones mixture in 3D (W. Kob and H. C. Andersen,
Phys. Rev. E 51, 4626 (1995), the paper's Ref. [35]; smoothed as in its Ref. [34], E. Lerner,
J. Non-Cryst. Solids 522, 119570 (2019); docs/models.md).

sigma_AA = 1, sigma_AB = 0.8, sigma_BB = 0.88; eps_AA = 1, eps_AB = 1.5, eps_BB = 0.5;
f = 4 (x^-12 - x^-6) cut at x_c = 2.5 sigma_ij with q = 2 smoothing; density 1.2.
"""

from __future__ import annotations

import numpy as np

from ..potentials.lennard_jones import LJ
from .spec import ModelSpec, binary

MODEL = ModelSpec(
    name="kablj",
    source="paper Sec. II, Refs. [34, 35]",
    dimensions=(3,),
    density={3: 1.2},
    potential=LJ,
    xc={3: 2.5},
    q=2,
    lam=np.array([[1.0, 0.8], [0.8, 0.88]]),
    eps=np.array([[1.0, 1.5], [1.5, 0.5]]),
    species_names=("A", "B"),
    composition=lambda N, d, rng, method: binary(N, (4 * N) // 5),
    check_N=lambda N: None if N % 5 == 0 else "a multiple of 5 (KABLJ is an 80:20 mixture)",
    attractive=True,
)
