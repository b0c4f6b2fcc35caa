"""The worker: runs a job's command in its working directory, logs it, records its end."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

import pytest

from shipyard.platform.auth.records import Actor
from shipyard.platform.jobs.packages import PackageStore
from shipyard.platform.jobs.packing import pack_directory
from shipyard.platform.jobs.queue import JobQueue
from shipyard.platform.jobs.records import NewJob
from shipyard.platform.jobs.spaces import (
    packages_location,
    project_artifact_root,
    project_store_url,
)
from shipyard.store.sql import SqlStore
from tests.platform.jobs.workers import wait_for, worker_thread

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PY = sys.executable
SCRIPT = """\
import os, sys
print("store", os.environ["SHIPYARD_STORE"])
print("artifacts", os.environ["SHIPYARD_ARTIFACT_ROOT"])
print("data", open("data.txt").read().strip())
print("to stderr", file=sys.stderr, flush=True)
sys.exit(int(sys.argv[1]))
"""


@pytest.fixture
def sqlite_queue(tmp_path: Path) -> Iterator[tuple[JobQueue, str]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    queue = JobQueue(url)
    yield queue, url
    queue.close()


def _package(tmp_path: Path) -> str:
    work = tmp_path / "project"
    work.mkdir()
    (work / "job.py").write_text(SCRIPT)
    (work / "data.txt").write_text("42\n")
    return PackageStore(packages_location(tmp_path)).put(pack_directory(work, max_bytes=10**6))


def test_a_job_runs_in_its_package_with_its_projects_store_and_artifacts(
    tmp_path: Path, sqlite_queue: tuple[JobQueue, str]
) -> None:
    queue, url = sqlite_queue
    sha = _package(tmp_path)
    job = queue.submit(NewJob("demo", "k", "ada", f"{PY} job.py 0", package=sha))[0]
    with worker_thread(queue, url, tmp_path):
        done = wait_for(queue, job.id, "SUCCEEDED", "FAILED")
    log = "".join(chunk.text for chunk in queue.read_log(job.id))
    assert (done.state, done.exit_code, done.message) == ("SUCCEEDED", 0, "exited with code 0")
    assert f"store sqlite:///{tmp_path / 'projects' / 'demo' / 'store.db'}\n" in log
    assert f"artifacts {project_artifact_root(tmp_path, 'demo')}\n" in log
    assert "data 42\n" in log and "to stderr\n" in log
    assert not (tmp_path / "work" / f"job-{job.id}-1").exists()  # cleaned up


def test_a_failing_job_says_its_exit_code_and_last_line(
    tmp_path: Path, sqlite_queue: tuple[JobQueue, str]
) -> None:
    queue, url = sqlite_queue
    command = f"{PY} -c \"import sys; print('step 1'); sys.exit('ValueError: bad row 7')\""
    job = queue.submit(NewJob("demo", "k", "ada", command))[0]
    with worker_thread(queue, url, tmp_path):
        done = wait_for(queue, job.id, "SUCCEEDED", "FAILED")
    assert done.state == "FAILED" and done.exit_code == 1
    assert done.message == "exited with code 1: ValueError: bad row 7"


def test_a_command_that_cannot_start_fails_with_why(
    tmp_path: Path, sqlite_queue: tuple[JobQueue, str]
) -> None:
    queue, url = sqlite_queue
    job = queue.submit(NewJob("demo", "k", "ada", "no-such-program --flag"))[0]
    with worker_thread(queue, url, tmp_path):
        done = wait_for(queue, job.id, "FAILED")
    assert done.message.startswith("could not start: [Errno 2] No such file or directory")


def test_a_stop_request_ends_the_process_group_within_seconds(
    tmp_path: Path, sqlite_queue: tuple[JobQueue, str]
) -> None:
    queue, url = sqlite_queue
    marker = tmp_path / "child.pid"
    command = (  # a child process in the group must end too
        f'{PY} -c "import subprocess, time; '
        f"p = subprocess.Popen(['sleep', '60']); open('{marker}', 'w').write(str(p.pid)); "
        "print('started', flush=True); time.sleep(60)\""
    )
    job = queue.submit(NewJob("demo", "k", "ada", command))[0]
    with worker_thread(queue, url, tmp_path):
        wait_for(queue, job.id, "RUNNING")
        while not marker.exists() or not marker.read_text():
            time.sleep(0.05)
        asked = time.monotonic()
        queue.request_stop(job.id, Actor("bob"))
        done = wait_for(queue, job.id, "STOPPED", "FAILED", "SUCCEEDED")
        took = time.monotonic() - asked
    assert done.state == "STOPPED" and took < 3
    assert done.message == "stopped on request; the process was killed by SIGTERM (exit code -15)"
    child = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            os.kill(child, 0)  # the child in the job's group was ended too
            time.sleep(0.05)


def test_a_worker_that_lost_its_lease_ends_the_job_and_records_nothing(
    tmp_path: Path, sqlite_queue: tuple[JobQueue, str]
) -> None:
    queue, url = sqlite_queue
    job = queue.submit(NewJob("demo", "k", "ada", "sleep 60"))[0]
    with worker_thread(queue, url, tmp_path) as worker:
        wait_for(queue, job.id, "RUNNING")
        worker.drain()  # claims nothing more; the running job goes on
        queue.hand_back(job.id, "w1", "taken away by the test")  # as if its lease expired
        started = time.monotonic()
    assert time.monotonic() - started < 5  # the worker saw it at its next renewal
    back = queue.get(job.id)
    assert back.state == "PENDING"
    assert back.message == "taken away by the test; waiting for a worker (next in line)"


def test_a_jobs_runs_go_to_its_projects_store_alone(tmp_path: Path, store_url: str) -> None:
    queue = JobQueue(store_url)
    record_run = (
        f'{PY} -c "import os; from shipyard.store.sql import SqlStore; '
        "s = SqlStore(os.environ['SHIPYARD_STORE']); "
        "s.create_run('in-' + os.environ['SHIPYARD_PROJECT']); "
        's.close()"'
    )
    try:
        jobs = [queue.submit(NewJob(p, "k", "ada", record_run))[0] for p in ("demo", "other")]
        with worker_thread(queue, store_url, tmp_path):
            done = [wait_for(queue, job.id, "SUCCEEDED", "FAILED") for job in jobs]
        assert [job.state for job in done] == ["SUCCEEDED", "SUCCEEDED"], done
    finally:
        queue.close()
    for project in ("demo", "other"):
        runs = SqlStore(project_store_url(store_url, tmp_path, project))
        try:
            assert [run.pipeline for run in runs.list_runs()] == [f"in-{project}"]
        finally:
            runs.close()
    server = SqlStore(store_url)
    try:
        assert server.list_runs() == []  # nothing in the server's own store
    finally:
        server.close()


def test_the_workers_engine_is_its_jobs_engine(
    tmp_path: Path, sqlite_queue: tuple[JobQueue, str]
) -> None:
    from shipyard.platform.jobs.worker import Worker, WorkerOptions

    queue, url = sqlite_queue
    job = queue.submit(NewJob("demo", "k", "ada", "true"))[0]
    options = WorkerOptions(
        store_url=url, artifact_root=str(tmp_path), data_dir=tmp_path, engine="processes"
    )
    env = Worker(queue, options)._environment(job, tmp_path / "work")
    assert env["SHIPYARD_ENGINE"] == "processes"
    assert (env["SHIPYARD_JOB_ID"], env["SHIPYARD_PROJECT"]) == (str(job.id), "demo")
    assert env["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)
