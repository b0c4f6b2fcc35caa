"""A throwaway local Ray cluster for tests: `ray start --head` on 127.0.0.1, stopped after.

The cluster is a real one (the GCS, a raylet, its object store and workers, as on any Ray
head node), not `ray.init()`'s in-process one, so code under test connects to it by address
the way it would connect to a company's cluster. Each cluster has its own temporary
directory and free ports, so several can run on one machine (other test sessions, another
developer's cluster) without meeting; the teardown ends exactly its own processes (never
`ray stop`, which stops every Ray cluster of the machine).

Starting one takes about 5 s and its processes hold about 0.6 GiB of memory
(docs/benchmarks/raydata.md); a test session starts one and shares it.

Example:
    >>> with running_ray_cluster(num_cpus=2) as cluster:
    ...     ray.init(address=cluster.address)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import PlatformError
from shipyard.extras import require_extra
from shipyard.io.ports import free_ports

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["LocalRayCluster", "running_ray_cluster"]

OBJECT_STORE_BYTES = 128 * 1024 * 1024
"""The object store of a test cluster: small, for a shared machine (Ray's minimum is 75 MiB)."""

_START_TIMEOUT_S = 120
_STOP_TIMEOUT_S = 10
# The GCS and raylet ignore SIGTERM for seconds; a throwaway cluster need not wait for them.
_STOP_GRACE_S = 2
# Every listening port `ray start` would otherwise take at a fixed default (6379, 8265,
# 52365, 10001, ...), where a second cluster on the machine would collide with the first.
_PORT_OPTIONS = (
    "--port",
    "--dashboard-port",
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--runtime-env-agent-port",
    "--metrics-export-port",
    "--ray-client-server-port",
    "--node-manager-port",
    "--object-manager-port",
)


@dataclass(frozen=True)
class LocalRayCluster:
    """A running local Ray cluster.

    Attributes:
        address: The GCS address to pass to `ray.init(address=...)`: `127.0.0.1:PORT`.
        temp_dir: Its own Ray temporary directory (sessions, logs, sockets).
        process_group: The process group of every process `ray start` started.
        start_s: How long it took to start, in seconds.
    """

    address: str
    temp_dir: Path
    process_group: int
    start_s: float

    def pids(self) -> list[int]:
        """Return the ids of the cluster's live processes (its group, and any that left it
        but still run from its temporary directory)."""
        return sorted(_processes(self.process_group, str(self.temp_dir)))

    def rss_bytes(self) -> int:
        """Return the resident memory of all the cluster's processes together."""
        page = os.sysconf("SC_PAGE_SIZE")
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        return total


@contextmanager
def running_ray_cluster(
    *,
    num_cpus: int = 2,
    object_store_bytes: int = OBJECT_STORE_BYTES,
    timeout_s: float = _START_TIMEOUT_S,
) -> Iterator[LocalRayCluster]:
    """Start a local Ray head node on 127.0.0.1, yield it, and end its processes after.

    Args:
        num_cpus: The CPUs the cluster offers its tasks.
        object_store_bytes: The size of its shared-memory object store (at least 75 MiB).
        timeout_s: How long to wait for it to start.

    Yields:
        The running cluster; its `address` is what `ray.init(address=...)` takes.

    Raises:
        PluginNotInstalled: Ray is not installed (the "ray" extra).
        PlatformError: The cluster did not start in time, or `ray start` failed; the
            message holds the end of its output and names its log directory.

    Example:
        >>> with running_ray_cluster() as cluster:
        ...     print(cluster.address)
        127.0.0.1:40123
    """
    require_extra("ray", needed_by="a local Ray cluster")
    temp_dir = Path(tempfile.mkdtemp(prefix="shipyard-ray-"))  # short: Ray's socket paths
    ports = free_ports(len(_PORT_OPTIONS))
    command = [
        *_ray_command(),
        "start",
        "--head",
        "--node-ip-address=127.0.0.1",
        f"--num-cpus={num_cpus}",
        "--num-gpus=0",
        f"--object-store-memory={object_store_bytes}",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
        "--include-dashboard=false",
        "--include-log-monitor=false",  # tasks' output stays in their logs: 90 MB less
        *(f"{option}={port}" for option, port in zip(_PORT_OPTIONS, ports, strict=True)),
    ]
    environment = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    environment.pop("RAY_ADDRESS", None)
    log = temp_dir / "ray-start.log"
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
            start_new_session=True,  # its own process group: the teardown ends exactly it
        )
    cluster = LocalRayCluster(
        address=f"127.0.0.1:{ports[0]}",
        temp_dir=temp_dir,
        process_group=process.pid,
        start_s=0.0,
    )
    try:
        _wait_until_started(process, log, timeout_s)
        cluster = LocalRayCluster(
            address=cluster.address,
            temp_dir=temp_dir,
            process_group=process.pid,
            start_s=time.perf_counter() - started,
        )
        yield cluster
    finally:
        _stop(cluster, process)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _ray_command() -> list[str]:
    """Return the `ray` command of this interpreter's environment."""
    beside = Path(sys.executable).with_name("ray")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ray")
    if found is not None:
        return [found]
    return [sys.executable, "-m", "ray.scripts.scripts"]


def _wait_until_started(process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    """Wait for `ray start` to return: it does once the head node runs (its processes stay,
    in its process group)."""
    try:
        status = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        state = f"did not start within {timeout_s:g} s"
    else:
        if status == 0:
            return
        state = f"exited with status {status}"
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise PlatformError(
        f"The local Ray cluster (`ray start --head`, logs under {log.parent}) {state}. "
        f"Its output ended with:\n{tail}\n"
        f"Check the machine's free memory and /dev/shm, or raise timeout_s."
    )


def _stop(cluster: LocalRayCluster, process: subprocess.Popen[bytes]) -> None:
    """End the cluster's processes: SIGTERM to its group, SIGKILL to whatever is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(cluster.process_group, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_S
    while cluster.pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    # A killed process lingers until the kernel tears it down, and a raylet may still be
    # starting a worker: kill and look again until none is left.
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    while (left := cluster.pids()) and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_STOP_TIMEOUT_S)


def _processes(group: int, marker: str) -> set[int]:
    """Return the live processes of process group `group` or whose command line has `marker`."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] == "Z":  # a zombie holds no memory and takes no signal
                continue
            if int(fields[2]) == group or marker in (entry / "cmdline").read_text(errors="replace"):
                found.add(int(entry.name))
    return found
