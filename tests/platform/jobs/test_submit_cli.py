"""End to end: `shipyard server` with a worker, and `shipyard jobs submit --wait` from a project."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from shipyard.io.ports import free_port
from shipyard.platform.auth.accounts import Accounts
from shipyard.platform.database import Database
from shipyard.platform.jobs.queue import JobQueue
from shipyard.store.sql import SqlStore
from tests.environment import child_environment
from tests.platform.jobs.platform_server import add_users

pytestmark = pytest.mark.slow

PIPELINE = """\
from shipyard import Out, Pipeline, component
from shipyard.artifacts import Artifact


@component
def blob(out: Out[Artifact], *, size_bytes: int = 10) -> None:
    (out.path / "blob.bin").write_bytes(b"x" * size_bytes)
    print("wrote", size_bytes, "bytes")


def blobs(size_bytes: int = 10) -> Pipeline:
    return Pipeline("blobs", nodes=[blob(size_bytes=size_bytes)])
"""


def _shipyard(*args: str, cwd: Path, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args], cwd=cwd, capture_output=True, text=True,
        env=child_environment(checkout_first=True), timeout=timeout_s, check=False,
    )  # fmt: skip


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(f"{url}/api/openapi.json", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)


def test_submit_wait_runs_a_pipeline_in_the_projects_store(tmp_path: Path) -> None:
    store_url, root = f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "root"
    with Database(store_url) as database:
        token = add_users(Accounts(database))["rune"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--store", store_url, "--artifact-root",
         str(root), "--port", str(port), "--workers", "1"],
        env=child_environment(checkout_first=True),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_until_up(url, server)
        project = tmp_path / "project"
        project.mkdir()
        (project / "pipeline.py").write_text(PIPELINE)
        (project / "big.csv").write_text("ignored\n")
        (project / ".gitignore").write_text("*.csv\n")
        common = ("--server", url, "--token", token, "--project", "demo")
        ran = _shipyard(
            "jobs", "submit", *common, "--wait", "--",
            "shipyard", "run", "pipeline.py", "--param", "size_bytes=5", cwd=project,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert "wrote 5 bytes" in ran.stdout
        assert "Job 1 SUCCEEDED: exited with code 0" in ran.stderr
        failed = _shipyard(
            "jobs", "submit", *common, "--no-package", "--wait", "--",
            sys.executable, "-c", "raise SystemExit('boom: no such column')", cwd=project,
        )  # fmt: skip
        assert failed.returncode == 1
        assert "Job 2 FAILED: exited with code 1: boom: no such column" in failed.stderr
        listed = _shipyard("jobs", "list", "--server", url, "--token", token, "--json", cwd=project)
        jobs = json.loads(listed.stdout)["jobs"]
        assert [(j["job_id"], j["status"], j["kind"]) for j in jobs] == [
            (2, "FAILED", "command"),
            (1, "SUCCEEDED", "pipeline"),
        ]
    finally:
        server.terminate()
        server.wait(60)
    deadline = time.monotonic() + 15
    while _workers_of(store_url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _workers_of(store_url), "the server's local worker outlived it"
    runs = SqlStore(f"sqlite:///{root / 'projects' / 'demo' / 'store.db'}")
    try:
        assert [(r.pipeline, r.state) for r in runs.list_runs()] == [("blobs", "complete")]
    finally:
        runs.close()
    assert any((root / "projects" / "demo" / "artifacts").rglob("blob.bin"))


def _workers_of(store_url: str) -> list[int]:
    """The pids of live `shipyard worker` processes on `store_url` (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if b"worker" in argv and store_url.encode() in argv and state != "Z":
            found.append(int(entry.name))
    return found


def _start_server(store_url: str, root: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--store", store_url, "--artifact-root",
         str(root), "--port", str(port), "--workers", "0"],
        env=child_environment(checkout_first=True),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_server_restart_while_a_client_follows_a_job_loses_nothing(tmp_path: Path) -> None:
    store_url, root = f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "root"
    with Database(store_url) as database:
        token = add_users(Accounts(database))["rune"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start_server(store_url, root, port)
    worker = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "worker", "--store", store_url, "--artifact-root",
         str(root)],
        env=child_environment(checkout_first=True),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    script = "import time; print('before', flush=True); time.sleep(4); print('after')"
    try:
        _wait_until_up(url, server)
        client = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "jobs", "submit", "--server", url, "--token",
             token, "--project", "demo", "--no-package", "--wait", "--", sys.executable, "-c",
             script],
            env=child_environment(checkout_first=True), cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        queue = JobQueue(store_url)
        try:
            deadline = time.monotonic() + 60
            while not queue.list_jobs() or not queue.read_log(queue.list_jobs()[0].id):
                assert time.monotonic() < deadline, "the job did not start"
                time.sleep(0.1)
        finally:
            queue.close()
        server.terminate()  # mid-job: the worker and the job go on
        server.wait(60)
        server = _start_server(store_url, root, port)
        out, err = client.communicate(timeout=120)
    finally:
        server.terminate()
        worker.terminate()
        server.wait(60)
        worker.wait(60)
    assert client.returncode == 0, err
    assert out == "before\nafter\n"
