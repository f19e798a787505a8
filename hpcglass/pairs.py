"""The pair-term record that links the models/kernels layer to the harmonic layer."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PairTerms:
    """Interacting pairs of one configuration, each listed once (i < j).

    Attributes (P = number of interacting pairs, d = dimension, model units):
      i, j   : int64 (P,)      particle indices
      rij    : float64 (P, d)  x_i - x_j under the minimum image (Lees-Edwards where sheared)
      r      : float64 (P,)    |rij|
      dphi   : float64 (P,)    phi'(r); the pair force is f_ij = -dphi (positive when repulsive)
      d2phi  : float64 (P,)    phi''(r)
    """

    i: np.ndarray
    j: np.ndarray
    rij: np.ndarray
    r: np.ndarray
    dphi: np.ndarray
    d2phi: np.ndarray

    @property
    def dim(self) -> int:
        return self.rij.shape[1]

    def __len__(self) -> int:
        return self.i.shape[0]
