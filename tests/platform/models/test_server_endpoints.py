"""End to end: `shipyard server` serving an endpoint; killed, its successor adopts the
endpoint's server; stopped, the endpoint stops with it and the next one starts it again."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.io.ports import free_port
from shipyard.platform.auth.accounts import Accounts
from shipyard.platform.database import Database
from shipyard.platform.jobs.spaces import project_store_url
from shipyard.platform.models.endpoints import Endpoints
from shipyard.platform.models.serve_process import is_alive
from tests.platform.jobs.platform_server import add_users
from tests.platform.jobs.test_submit_cli import _start_server, _wait_until_up
from tests.platform.models.pushes import push_run

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def test_the_server_serves_adopts_and_restarts_its_endpoints(
    tmp_path: Path, trained: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store_url, root = f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "root"
    with Database(store_url) as database:
        token = add_users(Accounts(database))["eddy"]  # an editor of project demo
    (root / "projects" / "demo").mkdir(parents=True)
    project_store = project_store_url(store_url, root, "demo")
    run, _ = push_run(project_store, tmp_path / "pushed", "one", source=trained["penguins"])
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def cli(*args: str) -> Any:
        options = ["--server", url, "--token", token, "--json"]
        result = CliRunner().invoke(app, [*args, *options])
        assert result.exit_code == 0, result.exception
        return json.loads(result.output)

    status = ("endpoints", "status", "live", "--project", "demo")
    server = _start_server(store_url, root, port)
    try:
        _wait_until_up(url, server)
        cli("models", "register", "penguins", "--project", "demo", "--run-id", run.id)
        first = cli(
            "endpoints",
            "deploy",
            "live",
            "--project",
            "demo",
            "--model",
            "penguins",
            "--version",
            "1",
        )
        assert first["state"] == "running"

        server.kill()  # a crash: the endpoint's server serves on, the next server adopts it
        server.wait(60)
        assert is_alive(first["pid"])
        server = _start_server(store_url, root, port)
        _wait_until_up(url, server)
        adopted = cli(*status)
        assert (adopted["pid"], adopted["url"]) == (first["pid"], first["url"])
        assert adopted["message"].startswith("adopted the server on")
        assert [(v["version"], v["state"]) for v in adopted["serving"]] == [(1, "AVAILABLE")]

        server.terminate()  # a stop: the endpoint stops with it, the next server starts it
        server.wait(60)
        assert not is_alive(first["pid"])
        server = _start_server(store_url, root, port)
        _wait_until_up(url, server)
        restarted = cli(*status)
        assert restarted["state"] == "running" and restarted["pid"] != first["pid"]
        assert [(v["version"], v["state"]) for v in restarted["serving"]] == [(1, "AVAILABLE")]
    finally:
        server.terminate()
        server.wait(60)
        _stop_leftovers(store_url)


def _stop_leftovers(store_url: str) -> None:
    """Stop endpoint servers a failed test left behind."""
    with Database(store_url) as database:
        pids = [e.pid for e in Endpoints(database).list_endpoints() if e.pid is not None]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(is_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
