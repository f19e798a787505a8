"""IPL: the binary inverse-power-law mixture in 2D, 3D and 4D (the paper's Sec. II and its Refs.
[20] Kapteijns, Bouchbinder and Lerner, PRL 121, 055501 (2018) and [23] Lerner and Bouchbinder,
J. Chem. Phys. 148, 214502 (2018); docs/models.md).

50:50 small:large, lambda_SS = 1, lambda_SL = 1.18, lambda_LL = 1.4, eps = 1, f = x^-10,
x_c = 1.48 with q = 3 smoothing; densities 0.86 (2D), 0.82 (3D) from the
public reference configurations, 0.76 (4D) not found in the sources: a choice that keeps
rho^(10/d) near its 2D/3D values (docs/models.md).
"""

from __future__ import annotations

import numpy as np

from ..potentials.inverse_power import IPL10
from .spec import ModelSpec, binary

MODEL = ModelSpec(
    name="ipl",
    source="paper Sec. II, Refs. [20, 23]",
    dimensions=(2, 3, 4),
    density={2: 0.86, 3: 0.82, 4: 0.76},
    potential=IPL10,
    xc={2: 1.48, 3: 1.48, 4: 1.48},
    q=3,
    lam=np.array([[1.0, 1.18], [1.18, 1.40]]),
    eps=np.ones((2, 2)),
    species_names=("S", "L"),
    composition=lambda N, d, rng, method: binary(N, N // 2),
    check_N=lambda N: None if N % 2 == 0 else "an even number (IPL is a 50:50 mixture)",
)
