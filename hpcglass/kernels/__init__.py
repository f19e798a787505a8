"""numba kernels: pair potentials, neighbour search in any dimension, energy/forces/pair terms."""
