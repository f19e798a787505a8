"""hpcglass: MPI-parallel batch application for local force-dipole responses in computer glasses."""

__version__ = "0.1.0"
