"""Run under `mpirun -n 2` by tests/test_lammps_engine.py: the lammps engine on a 2-rank
communicator.  Writes (rank 0) a JSON summary to argv[1]; every rank checks nothing itself.

The same short equilibration (IPL 3D, N = 500) runs once on COMM_WORLD (2 ranks, domain
decomposition) and once on COMM_SELF on rank 0; over 20 steps from the same seeded velocities
the two trajectories agree to round-off, so this checks that velocities and atoms do not depend
on the rank count and that gather_atoms returns the whole, id-ordered configuration.
"""

import json
import sys

import numpy as np
from mpi4py import MPI

from hpcglass.kernels.forces import VerletList, energy_forces
from hpcglass.models import make_model
from hpcglass.sampling.lammps_engine import lammps_equilibrate_quench
from hpcglass.sampling.minimize import fire


def main(out: str) -> None:
    comm = MPI.COMM_WORLD
    m = make_model("ipl", 3, 500)
    rng = np.random.default_rng(3)
    x0 = fire(rng.random((m.N, 3)) * m.L, m.L, VerletList(m).force, ftol=1.0).x
    # a team communicator, as the driver would make one (here: all ranks)
    team = comm.Split(0, comm.Get_rank())
    x2, rec2 = lammps_equilibrate_quench(x0, m, 0.6, 0.005, 20, None, 11, team)
    xq, recq = lammps_equilibrate_quench(x0, m, 0.6, 0.005, 200, 0.05, 12, team)
    all_x2 = comm.gather(x2, root=0)
    all_xq = comm.gather(xq, root=0)
    if comm.Get_rank() == 0:
        x1, rec1 = lammps_equilibrate_quench(x0, m, 0.6, 0.005, 20, None, 11, MPI.COMM_SELF)
        L = m.L
        dx = np.abs((x2 - x1 + L / 2) % L - L / 2).max()
        summary = {
            "ranks": int(rec2["engine_ranks"]), "ranks_q": int(recq["engine_ranks"]),
            "same_on_ranks": bool(all(np.array_equal(a, all_x2[0]) for a in all_x2)
                                  and all(np.array_equal(a, all_xq[0]) for a in all_xq)),
            "max_dx_1_vs_2_ranks": float(dx),
            "U_final_2": float(rec2["U_final"]), "U_final_1": float(rec1["U_final"]),
            "U_hpcglass_of_gathered": float(energy_forces(x2, m)[0] / m.N),
            "Uq_final": float(recq["U_final"]), "Uq_hpcglass_of_gathered": float(energy_forces(xq, m)[0] / m.N),
            "finite": bool(np.all(np.isfinite(xq)) and np.all(np.isfinite(recq["eq_block_U"]))
                           and np.isfinite(recq["U_final"])),
            "in_box": bool(np.all((xq >= 0) & (xq < L))), "shape": list(xq.shape),
            "quench_steps": int(recq["quench_steps"]),
        }
        with open(out, "w") as fh:
            json.dump(summary, fh)
    team.Free()


if __name__ == "__main__":
    main(sys.argv[1])
