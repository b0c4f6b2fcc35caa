"""The local Ray cluster the tests start: real, reachable by address, and gone after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.errors import PlatformError
from shipyard.testing.ray import LocalRayCluster, running_ray_cluster

pytest.importorskip("ray")

_REMOTE_SUM = """
import sys, ray
ray.init(address=sys.argv[1], log_to_driver=False)
@ray.remote
def square(x):
    return x * x
print(sum(ray.get([square.remote(i) for i in range(10)])))
print(int(ray.cluster_resources()["CPU"]))
"""


def test_the_session_cluster_runs_tasks_from_another_process(
    ray_cluster: LocalRayCluster,
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _REMOTE_SUM, ray_cluster.address],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["285", "2"]
    assert ray_cluster.address.startswith("127.0.0.1:")
    assert ray_cluster.rss_bytes() > 50 * 1024 * 1024  # the GCS and raylet at least


def test_a_cluster_ends_its_processes_and_its_directory() -> None:
    with running_ray_cluster(num_cpus=1) as cluster:
        pids = cluster.pids()
        assert len(pids) >= 3  # ray start, the GCS, the raylet
        assert cluster.temp_dir.is_dir()
    assert cluster.pids() == []
    assert not any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in pids)
    assert not cluster.temp_dir.exists()


def test_a_cluster_that_cannot_start_says_why() -> None:
    with (
        pytest.raises(PlatformError, match=r"ray start --head.*exited with status"),
        running_ray_cluster(object_store_bytes=1024),  # below Ray's 75 MiB minimum
    ):
        pass


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and os.path.exists(f"/proc/{pid}")
