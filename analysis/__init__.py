"""Offline analysis of hpcglass run files: readers, log-binned p(kappa), eta fits, figures.

Needs numpy, scipy, h5py and matplotlib only: no MPI, no PETSc, no hpcglass import.
"""
