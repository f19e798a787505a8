"""Launched by tests/test_teams.py under mpirun -n 2: hpcglass.driver.run_tasks with teams of 2."""

from dataclasses import dataclass

from mpi4py import MPI

from hpcglass.driver import Progress, run_tasks


@dataclass(frozen=True)
class T:
    index: int


comm = MPI.COMM_WORLD
ran, sizes, recorded = [], set(), []


def run(task, team):
    ran.append(task.index)
    sizes.add(team.Get_size())
    return {"x": team.allreduce(task.index)}  # a collective on the team: both ranks must be in it


def sink(index, status, wall, reason, fields):
    recorded.append((index, status))
    if reason:
        print(f"reason {index}: {reason}", flush=True)


progress = Progress(total=5, already=0, interval=100) if comm.rank == 0 else None
run_tasks(comm, [T(i) for i in range(5)], run, sink, progress, ranks_per_task=2)
for r in range(comm.size):
    if r == comm.rank:
        print(f"rank {r} recorded {recorded}", flush=True)
        print(f"rank {r} ran {ran} on teams of {sorted(sizes)}", flush=True)
    comm.Barrier()
