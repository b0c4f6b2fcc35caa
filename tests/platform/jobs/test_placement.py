"""Jobs placed by the resources they ask for, on SQLite and PostgreSQL."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import pytest

from shipyard.platform.jobs.capacity import Capacity, shortfall
from shipyard.platform.jobs.records import NewJob
from tests.platform.jobs.workers import wait_for, worker_thread

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.platform.jobs.queue import JobQueue

GIB = 1024**3
LAPTOP = Capacity(num_cpus=4, num_gpus=0, memory=8 * GIB)


def _job(key: str, entrypoint: str = "true", **resources: float) -> NewJob:
    return NewJob("demo", key, "ada", entrypoint, resources=resources)


def test_a_worker_claims_only_jobs_that_fit_what_is_free(queue: JobQueue) -> None:
    big = queue.submit(_job("big", num_cpus=3))[0]
    gpu = queue.submit(_job("gpu", num_gpus=1))[0]
    small = queue.submit(_job("small", num_cpus=1, memory=GIB))[0]
    bare = queue.submit(_job("bare"))[0]
    free = LAPTOP.minus([Capacity(num_cpus=2)])  # a running job holds 2 of its 4 CPUs
    claimed = queue.claim("w1", lease_s=30, capacity=LAPTOP, free=free)
    assert claimed is not None and claimed.id == small.id  # big and gpu passed over
    free = free.minus([Capacity.of(claimed.resources)])
    assert queue.claim("w1", lease_s=30, capacity=LAPTOP, free=free).id == bare.id  # type: ignore[union-attr]
    assert queue.claim("w1", lease_s=30, capacity=LAPTOP, free=free) is None
    assert queue.claim("w1", lease_s=30, capacity=LAPTOP, free=LAPTOP).id == big.id  # type: ignore[union-attr]
    assert queue.get(gpu.id).state == "PENDING"


def test_a_job_no_live_worker_could_hold_says_so(queue: JobQueue) -> None:
    gpu = queue.submit(_job("gpu", num_gpus=2))[0]
    assert gpu.message == "waiting for a worker (next in line)"  # no live worker to judge by
    queue.advertise("w1", LAPTOP)
    queue.advertise("w2", Capacity(num_cpus=16, num_gpus=0, memory=64 * GIB))
    expected = "needs 2 GPUs; the largest live worker has 0; waiting for a worker that large"
    assert queue.get(gpu.id).message == expected
    assert [job.message for job in queue.list_jobs()] == [expected]
    queue.advertise("w3", Capacity(num_cpus=1, num_gpus=2, memory=GIB))
    assert queue.get(gpu.id).message == "waiting for a worker (next in line)"
    queue.retire("w3")
    assert queue.get(gpu.id).message == expected


def test_a_shortfall_names_the_first_resource_missing_everywhere() -> None:
    workers = [LAPTOP, Capacity(num_cpus=1, num_gpus=1, memory=GIB)]
    assert shortfall(Capacity(num_cpus=8), workers) == (
        "needs 8 CPUs; the largest live worker has 4"
    )
    assert shortfall(Capacity(memory=16 * GIB), workers) == (
        "needs 16.0 GiB of memory; the largest live worker has 8.0 GiB"
    )
    assert shortfall(Capacity(num_cpus=2, num_gpus=1), workers) == (
        "needs 2 CPUs, 1 GPU; no live worker has all of it at once"
    )
    assert shortfall(Capacity(num_cpus=1, num_gpus=1), workers) is None
    assert shortfall(Capacity(num_gpus=5), []) is None


def test_a_worker_runs_at_once_only_what_its_capacity_holds(
    tmp_path: Path, queue: JobQueue, store_url: str
) -> None:
    # Two jobs each asking for 2 of the worker's 3 CPUs: the second waits for the first,
    # although the worker's concurrency would allow both.
    sleeper = "python -c 'import time; time.sleep(1.5)'"
    first = queue.submit(_job("a", sleeper, num_cpus=2))[0]
    second = queue.submit(_job("b", sleeper, num_cpus=2))[0]
    capacity = Capacity(num_cpus=3, num_gpus=0, memory=GIB)
    with worker_thread(queue, store_url, tmp_path, capacity=capacity, concurrency=2):
        wait_for(queue, first.id, "RUNNING")
        assert queue.get(second.id).state == "PENDING"
        done = wait_for(queue, second.id, "SUCCEEDED", "FAILED")
    assert done.state == "SUCCEEDED"
    runs = sorted([queue.get(first.id), done], key=lambda job: job.id)
    assert runs[0].ended_at is not None and runs[1].started_at is not None
    assert runs[1].started_at >= runs[0].ended_at


def test_a_job_asking_for_gpus_gets_devices_of_its_own(
    tmp_path: Path, queue: JobQueue, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    script = 'import os, time; print(os.environ.get("CUDA_VISIBLE_DEVICES", "none")); time.sleep(1)'
    shows = shlex.join(["python", "-c", script])
    first, second, third = (queue.submit(_job(k, shows, num_gpus=1))[0] for k in "abc")
    cpu_only = queue.submit(_job("d", shows))[0]
    capacity = Capacity(num_cpus=8, num_gpus=2, memory=GIB)
    with worker_thread(queue, store_url, tmp_path, capacity=capacity, concurrency=4):
        done = [wait_for(queue, j.id, "SUCCEEDED", "FAILED") for j in (first, second, third)]
        wait_for(queue, cpu_only.id, "SUCCEEDED", "FAILED")

    def shown(job_id: int) -> str:
        return "".join(chunk.text for chunk in queue.read_log(job_id)).strip()

    assert [job.state for job in done] == ["SUCCEEDED"] * 3, [job.message for job in done]
    assert {shown(first.id), shown(second.id)} == {"0", "1"}  # one device each
    assert shown(third.id) in {"0", "1"}
    assert done[2].started_at >= min(done[0].ended_at, done[1].ended_at)  # type: ignore[operator]
    assert shown(cpu_only.id) == "none"  # left the worker's (here: none set)


def test_a_workers_gpus_are_those_cuda_visible_devices_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shipyard.platform.jobs.capacity import detect_capacity, gpu_devices

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    assert detect_capacity().num_gpus == 2
    assert gpu_devices(2) == ["2", "5"] and gpu_devices(1) == ["2"]
    assert gpu_devices(3) == ["0", "1", "2"]  # more than it names: numbered
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert detect_capacity().num_gpus == 0
    assert detect_capacity().num_cpus >= 1 and detect_capacity().memory > 0
