"""A running run, seen live: its row says running, and its event stream follows its nodes
until it ends."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import TYPE_CHECKING

from shipyard import Pipeline
from shipyard.ui import create_app
from shipyard.ui.read_only import open_read_only
from tests.runners.components import source
from tests.ui import components
from tests.ui.server import get, serving

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import Workspace


def _events(url: str) -> Iterator[dict[str, object]]:
    """The `run` events of a server-sent event stream, as they come."""
    with urllib.request.urlopen(url, timeout=30) as stream:
        event = None
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "run":
                yield json.loads(line.removeprefix("data: "))


def test_a_running_run_is_followed_until_it_ends(workspace: Workspace) -> None:
    src = source(value=3.0)
    pipeline = Pipeline("live", nodes=[components.hold(inp=src.outputs.out)])
    components.RELEASE.clear()
    done = []
    runner = threading.Thread(target=lambda: done.append(workspace.run(pipeline)))
    runner.start()
    try:
        with workspace.project() as writer:
            deadline = time.monotonic() + 30
            while not (runs := writer.store.list_runs()) or not any(
                e.node == "hold" for e in writer.store.list_executions(runs[0].id)
            ):
                assert time.monotonic() < deadline, "the run never reached its hold node"
                time.sleep(0.05)
            run_id = runs[0].id
        project = open_read_only(workspace.store_url)
        with serving(create_app(project)) as url:
            running = get(f"{url}/api/runs?state=running").json()
            assert [r["id"] for r in running] == [run_id]
            page = get(f"{url}/runs").text
            assert f'<tr data-run="{run_id}" data-state="running">' in page
            assert 'data-events="/api/runs/' in get(f"{url}/runs/{run_id}").text

            seen = []
            for run in _events(f"{url}/api/runs/{run_id}/events"):
                seen.append((run["state"], run["nodes"]["hold"]["state"]))  # type: ignore[index]
                if len(seen) == 1:
                    components.RELEASE.set()
            assert seen[0] == ("running", "running")
            assert seen[-1] == ("complete", "complete")
        project.close()
    finally:
        components.RELEASE.set()
        runner.join(30)
    assert done and done[0].ok
