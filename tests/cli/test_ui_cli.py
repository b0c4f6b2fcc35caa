"""`shipyard ui` as a user starts it: it finds the store, serves it on 127.0.0.1, stops on
Ctrl-C; without a store it says where it looked."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest

from shipyard import Pipeline
from shipyard.io.ports import free_port
from tests.cli.command import shipyard
from tests.environment import child_environment
from tests.runners.components import source

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Workspace

pytestmark = pytest.mark.slow


def test_the_ui_serves_the_projects_runs_and_stops_on_ctrl_c(workspace: Workspace) -> None:
    run = workspace.run(Pipeline("numbers", nodes=[source(value=2.0)]))
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "shipyard", "ui", "--port", str(port)],
        cwd=workspace.root,
        env=child_environment(checkout_first=True),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as server:
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs") as answer:
                        assert run.id in answer.read().decode()
                        break
                except (OSError, urllib.error.HTTPError):
                    assert server.poll() is None, server.stdout.read()  # type: ignore[union-attr]
                    time.sleep(0.1)
            else:
                raise AssertionError("shipyard ui never answered")
        finally:
            server.send_signal(signal.SIGINT)
            output, _ = server.communicate(timeout=30)
    assert f"Shipyard UI on http://localhost:{port}/" in output and "read-only" in output


def test_without_a_store_the_ui_says_where_it_looked(tmp_path: Path) -> None:
    done = shipyard(tmp_path, "ui")
    assert done.returncode == 1
    assert "No Shipyard store found" in done.stderr
