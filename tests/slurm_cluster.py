"""A real one-node Slurm cluster on 127.0.0.1 for tests of the job templates.

Uses Debian's slurmctld, slurmd, slurm-client and munge, started by hand (no systemd) with a
private slurm.conf and state directories, and stopped by their PIDs afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

PMIX_DIR = Path("/usr/lib/x86_64-linux-gnu/pmix2/lib")


def missing_tools() -> list[str]:
    return [t for t in ("slurmctld", "slurmd", "sbatch", "squeue", "munged") if shutil.which(t) is None]


def _node_line() -> str:
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    line = out.splitlines()[0]
    fields = dict(f.split("=", 1) for f in line.split())
    keep = ["NodeName", "CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore"]
    return " ".join(f"{k}={fields[k]}" for k in keep if k in fields) + " NodeAddr=127.0.0.1 State=UNKNOWN"


class SlurmCluster:
    """Context manager: ``with SlurmCluster(tmpdir) as c: c.sbatch(...)``."""

    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.conf = self.dir / "slurm.conf"
        self.pids: list[int] = []

    def _write_conf(self) -> str:
        node = _node_line()
        name = node.split()[0].split("=", 1)[1]
        for sub in ("state", "spool", "log"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(f"""ClusterName=hpcglass-test
SlurmctldHost={name}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MpiDefault=none
ReturnToService=2
StateSaveLocation={self.dir}/state
SlurmdSpoolDir={self.dir}/spool
SlurmctldPidFile={self.dir}/slurmctld.pid
SlurmdPidFile={self.dir}/slurmd.pid
SlurmctldLogFile={self.dir}/log/slurmctld.log
SlurmdLogFile={self.dir}/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
{node}
PartitionName=test Nodes={name} Default=YES MaxTime=INFINITE State=UP
""")
        return name

    def env(self) -> dict:
        env = dict(os.environ)
        env["SLURM_CONF"] = str(self.conf)
        return env

    def __enter__(self) -> "SlurmCluster":
        self._write_conf()
        if PMIX_DIR.is_dir() and not (PMIX_DIR / "libpmix.so").exists():
            # Slurm's pmix plugin dlopens the unversioned name that only libpmix-dev ships.
            (PMIX_DIR / "libpmix.so").symlink_to("libpmix.so.2")
        if subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode != 0:
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            subprocess.run(["runuser", "-u", "munge", "--", "munged"], check=True)
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run([daemon, "-f", str(self.conf)], check=True, env=self.env())
        for pidfile in ("slurmctld.pid", "slurmd.pid"):
            self.pids.append(int(self._wait_file(self.dir / pidfile).read_text()))
        self._wait_idle()
        return self

    def _wait_file(self, path: Path, timeout: float = 30) -> Path:
        t0 = time.time()
        while not (path.exists() and path.read_text().strip()):
            if time.time() - t0 > timeout:
                raise RuntimeError(f"{path} did not appear; see {self.dir}/log")
            time.sleep(0.1)
        return path

    def _wait_idle(self, timeout: float = 60) -> None:
        t0 = time.time()
        while time.time() - t0 < timeout:
            out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=self.env())
            if out.returncode == 0 and out.stdout.strip() in ("idle", "mix"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"node never became idle; see {self.dir}/log")

    def sbatch(self, *args: str, cwd: Path) -> int:
        out = subprocess.run(["sbatch", "--parsable", *args], capture_output=True, text=True,
                             env=self.env(), cwd=cwd, check=True)
        return int(out.stdout.strip().split(";")[0])

    def wait(self, job: int, timeout: float = 300) -> None:
        """Poll squeue until the job has left the queue (faster than sbatch --wait)."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            out = subprocess.run(["squeue", "-h", "-j", str(job), "-o", "%T"], capture_output=True, text=True,
                                 env=self.env())
            if not out.stdout.strip():
                return
            time.sleep(0.3)
        raise TimeoutError(f"job {job} still queued or running after {timeout} s")

    def __exit__(self, *exc) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in self.pids:
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
