"""`shipyard worker` as a real process: a job survives its worker's kill -9; SIGTERM drains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from shipyard.platform.jobs.queue import JobQueue
from shipyard.platform.jobs.records import NewJob
from tests.environment import child_environment
from tests.platform.jobs.workers import wait_for

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

PY = sys.executable


def _start_worker(url: str, root: Path, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PY, "-m", "shipyard", "worker", "--store", url, "--artifact-root", str(root),
         "--lease-s", "2", "--name", name],
        env=child_environment(checkout_first=True),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _gone(pid: int, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_a_job_whose_worker_is_killed_is_retried_and_completes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    marker = tmp_path / "first-attempt.pid"
    script = (
        "import os, pathlib, time\n"
        f"m = pathlib.Path({str(marker)!r})\n"
        "if m.exists():\n    print('second attempt: done', flush=True)\n"
        "else:\n    m.write_text(str(os.getpid())); print('first attempt', flush=True); "
        "time.sleep(120)\n"
    )
    (tmp_path / "job.py").write_text(script)
    queue = JobQueue(url)
    try:
        job = queue.submit(NewJob("demo", "k", "ada", f"{PY} {tmp_path / 'job.py'}"))[0]
        first = _start_worker(url, tmp_path, "first")
        try:
            wait_for(queue, job.id, "RUNNING")
            deadline = time.monotonic() + 30
            while not queue.read_log(job.id):  # its first line reached the log
                assert time.monotonic() < deadline
                time.sleep(0.05)
            first.kill()  # kill -9: no chance to hand the job back
            first.wait()
        finally:
            first.kill()
        assert _gone(int(marker.read_text()))  # the first attempt died with its worker
        second = _start_worker(url, tmp_path, "second")
        try:
            done = wait_for(queue, job.id, "SUCCEEDED", "FAILED", timeout_s=60)
        finally:
            second.terminate()
            second.wait(30)
        log = "".join(chunk.text for chunk in queue.read_log(job.id))
    finally:
        queue.close()
    assert (done.state, done.attempts, done.lease_owner) == ("SUCCEEDED", 2, "second")
    assert log == "first attempt\nsecond attempt: done\n"


def test_sigterm_lets_the_running_job_finish_then_the_worker_exits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    queue = JobQueue(url)
    try:
        command = f"{PY} -c \"import time; time.sleep(1.5); print('finished')\""
        job = queue.submit(NewJob("demo", "k", "ada", command))[0]
        queued = queue.submit(NewJob("demo", "k2", "ada", "true"))[0]
        worker = _start_worker(url, tmp_path, "w")
        try:
            wait_for(queue, job.id, "RUNNING")
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(30) == 0
        finally:
            worker.kill()
        assert queue.get(job.id).state == "SUCCEEDED"
        assert queue.get(queued.id).state == "PENDING"  # drained: nothing more was claimed
    finally:
        queue.close()
