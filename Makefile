# hpcglass: set-up, tests and demo on a Debian bookworm machine.
# `make setup` is idempotent: a second run only checks and changes nothing.

VENV      ?= .venv
PY        := $(VENV)/bin/python
NP        ?= 2
PETSC_PY  := /usr/lib/petscdir/petsc3.18/x86_64-linux-gnu-real/lib/python3/dist-packages
SLEPC_PY  := /usr/lib/slepcdir/slepc3.18/x86_64-linux-gnu-real/lib/python3/dist-packages
DEB_PKGS  := python3-petsc4py python3-slepc4py python3-mpi4py python3-h5py-mpi python3-numpy \
             python3-scipy python3-numba python3-matplotlib python3-yaml python3-pytest \
             python3-venv python3-setuptools python3-wheel openmpi-bin \
             lammps python3-lammps liblammps-dev python3-ase
# liblammps-dev: the unversioned liblammps.so that `import lammps; lammps.lammps()` dlopens
# (liblammps0 ships only liblammps.so.0); used by hpcglass.sampling.lammps_engine.
SLURM_PKGS := slurmctld slurmd slurm-client munge
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# OpenMPI refuses to run as root without these; harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

.PHONY: setup debs venv slurm test test-fast demo analyse-example bench clean

setup: debs venv

debs:
	@$(MAKE) --no-print-directory apt PKGS="$(DEB_PKGS)"

# Slurm for the job-template tests (tests/test_slurm.py brings up a one-node cluster).
slurm:
	@$(MAKE) --no-print-directory apt PKGS="$(SLURM_PKGS)"

apt:
	@missing=$$(for p in $(PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "Debian packages present: $(PKGS)"; fi

venv: $(VENV)/.hpcglass-installed

$(VENV)/.hpcglass-installed: setup.cfg pyproject.toml Makefile
	[ -x $(PY) ] || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	printf '%s\n%s\n' $(PETSC_PY) $(SLEPC_PY) > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/hpcglass-petsc.pth
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	# test-only H5MD reference reader (pure Python); --no-deps so pip never touches numpy or h5py
	$(PY) -c 'import pyh5md' 2>/dev/null || $(PY) -m pip install -q --no-deps pyh5md
	$(PY) -m hpcglass.cli info
	touch $@

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

demo: setup
	mpirun -n $(NP) --oversubscribe $(VENV)/bin/hpcglass run inputs/demo.yaml --out runs/demo.h5 --overwrite
	$(PY) -m analysis runs/demo.h5 --plots out/demo

# The analyse kind on three demo samples exported as extxyz, LAMMPS data and H5MD.
AX := runs/analyse_example
analyse-example: setup
	[ -f runs/demo.h5 ] || $(MAKE) --no-print-directory demo
	mkdir -p $(AX)
	$(VENV)/bin/hpcglass export runs/demo.h5 --ensemble ipl2d_N400 --sample 0 --format extxyz $(AX)/sample0.xyz
	$(VENV)/bin/hpcglass export runs/demo.h5 --ensemble ipl2d_N400 --sample 1 --format lammps-data $(AX)/sample1.data
	$(VENV)/bin/hpcglass export runs/demo.h5 --ensemble ipl2d_N400 --sample 2 --format h5md $(AX)/sample2.h5
	mpirun -n $(NP) --oversubscribe $(VENV)/bin/hpcglass run inputs/analyse_example.yaml --overwrite
	$(PY) -m analysis runs/analyse_example.h5 --plots out/analyse_example

bench: setup
	$(PY) bench/lattice.py

clean:
	rm -rf $(VENV) runs out *.egg-info
