"""Harmonic analysis of one configuration: Hessian, force-dipole stiffness kappa, low modes, G.

Public API (see docs/harmonic.md for conventions, zero-mode handling and options prefixes):

* :mod:`.hessian`    -- hessian_triplets, hessian_csr, hessian_petsc, pair_stiffness,
                        find_rattlers, restrict_pairs
* :class:`HarmonicSystem` -- owns the PETSc Mat/KSP of one sample (pinning + Cholesky, or CG with
                        the translation null space); factor once, solve many right-hand sides
* :mod:`.dipoles`    -- select_pairs, unit_dipoles, dipole_stiffness, kappa_pairs
* :mod:`.modes`      -- lowest_modes (SLEPc shift-invert), participation_ratio
* :mod:`.elasticity` -- elastic_moduli / shear_modulus (Lemaitre-Maloney G, bulk modulus B)
"""

from .dipoles import DipoleResult, dipole_stiffness, kappa_pairs, rattler_pairs, select_pairs, unit_dipoles
from .elasticity import ElasticResult, born_shear, elastic_moduli, shear_modulus, shear_xi, stresses
from .hessian import (find_rattlers, hessian_csr, hessian_petsc, hessian_triplets, pair_stiffness,
                      restrict_pairs)
from .modes import ModesResult, lowest_modes, participation_ratio
from .system import HarmonicSystem

__all__ = [
    "HarmonicSystem", "DipoleResult", "ElasticResult", "ModesResult",
    "hessian_triplets", "hessian_csr", "hessian_petsc", "pair_stiffness", "find_rattlers",
    "restrict_pairs", "select_pairs", "unit_dipoles", "dipole_stiffness", "kappa_pairs",
    "rattler_pairs", "elastic_moduli", "shear_modulus", "born_shear", "shear_xi", "stresses",
    "lowest_modes", "participation_ratio",
]
