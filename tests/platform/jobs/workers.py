"""Helpers of the worker tests: a worker in a thread, and waiting for a job's state."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from shipyard.platform.jobs.worker import Worker, WorkerOptions

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.platform.jobs.capacity import Capacity
    from shipyard.platform.jobs.queue import JobQueue
    from shipyard.platform.jobs.records import JobRecord


@contextmanager
def worker_thread(
    queue: JobQueue,
    store_url: str,
    root: Path,
    *,
    name: str = "w1",
    lease_s: float = 5.0,
    artifact_root: str | None = None,
    capacity: Capacity | None = None,
    concurrency: int = 1,
) -> Iterator[Worker]:
    """Run a worker in a thread until the block ends (then drain it); `root` is its data
    directory, and its artifact root unless `artifact_root` names another."""
    options = WorkerOptions(
        store_url=store_url, artifact_root=artifact_root or str(root), data_dir=root,
        lease_s=lease_s, heartbeat_s=0.2, capacity=capacity, concurrency=concurrency,
        poll_s=0.05, kill_grace_s=2.0, name=name,
    )  # fmt: skip
    worker = Worker(queue, options, say=lambda _text: None)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.drain()
        thread.join(30)


def wait_for(queue: JobQueue, job_id: int, *states: str, timeout_s: float = 30.0) -> JobRecord:
    """Wait until the job is in one of `states`; return it."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = queue.get(job_id)
        if job.state in states:
            return job
        assert time.monotonic() < deadline, f"job {job_id} is {job.state}: {job.message}"
        time.sleep(0.05)
