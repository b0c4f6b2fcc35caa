"""A running run, seen live: its row says running, and its event stream follows its nodes
until it ends."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from shipyard import Pipeline
from shipyard.ui import create_app
from shipyard.ui.read_only import open_read_only
from tests.runners.components import source
from tests.ui import components
from tests.ui.server import get, serving

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shipyard.runners import Run
    from tests.conftest import Workspace


def _events(url: str, kind: str = "run") -> Iterator[dict[str, Any]]:
    """The `kind` events of a server-sent event stream, as they come."""
    with urllib.request.urlopen(url, timeout=30) as stream:
        event = None
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == kind:
                yield json.loads(line.removeprefix("data: "))


@contextmanager
def _live(workspace: Workspace, pipeline: Pipeline, node: str) -> Iterator[tuple[str, str]]:
    """Run `pipeline` in a thread until `node` has started (it waits for `RELEASE`); yield
    the run's id and the UI's URL; afterwards release the node and check the run ended well."""
    components.RELEASE.clear()
    done: list[Run] = []
    runner = threading.Thread(target=lambda: done.append(workspace.run(pipeline)))
    runner.start()
    try:
        with workspace.project() as writer:
            deadline = time.monotonic() + 30
            while not (runs := writer.store.list_runs()) or not any(
                e.node == node for e in writer.store.list_executions(runs[0].id)
            ):
                assert time.monotonic() < deadline, f"the run never reached its {node} node"
                time.sleep(0.05)
        project = open_read_only(workspace.store_url)
        with serving(create_app(project)) as url:
            yield runs[0].id, url
        project.close()
    finally:
        components.RELEASE.set()
        runner.join(30)
    assert done and done[0].ok


def test_a_running_run_is_followed_until_it_ends(workspace: Workspace) -> None:
    src = source(value=3.0)
    pipeline = Pipeline("live", nodes=[components.hold(inp=src.outputs.out)])
    with _live(workspace, pipeline, "hold") as (run_id, url):
        running = get(f"{url}/api/runs?state=running").json()
        assert [r["id"] for r in running] == [run_id]
        page = get(f"{url}/runs").text
        assert f'<tr data-run="{run_id}" data-state="running">' in page
        assert 'data-events="/api/runs/' in get(f"{url}/runs/{run_id}").text

        seen = []
        for run in _events(f"{url}/api/runs/{run_id}/events"):
            seen.append((run["state"], run["nodes"]["hold"]["state"]))
            if len(seen) == 1:
                components.RELEASE.set()
        assert seen[0] == ("running", "running")
        assert seen[-1] == ("complete", "complete")


def test_a_running_nodes_log_is_tailed_until_the_run_ends(workspace: Workspace) -> None:
    src = source(value=3.0)
    pipeline = Pipeline("chat", nodes=[components.chatty(inp=src.outputs.out)])
    with _live(workspace, pipeline, "chatty") as (run_id, url):
        deadline = time.monotonic() + 30
        while not get(f"{url}/api/runs/{run_id}/logs?node=chatty").json()["nodes"]["chatty"][
            "entries"
        ]:
            assert time.monotonic() < deadline, "the first record was never kept"
            time.sleep(0.05)
        page = get(f"{url}/runs/{run_id}").text
        assert f'data-logs="/api/runs/{run_id}/logs/events"' in page
        assert "tests.ui.chatty: read 3.0" in page

        seen = []
        for event in _events(f"{url}/api/runs/{run_id}/logs/events", "log"):
            seen.append(event)
            if len(seen) == 1:
                components.RELEASE.set()  # the second record comes while we listen
        assert [e["node"] for e in seen] == ["chatty", "chatty"]
        assert [r["message"] for e in seen for r in e["entries"]] == ["read 3.0", "released"]
        assert [r["level"] for e in seen for r in e["entries"]] == ["INFO", "WARNING"]
        final = get(f"{url}/api/runs/{run_id}/logs").json()
        assert final["nodes"]["source"] == {"state": "complete", "entries": []}
        messages = [r["message"] for r in final["nodes"]["chatty"]["entries"]]
        assert messages == ["read 3.0", "released"]
        assert "No log records." in get(f"{url}/runs/{run_id}").text  # source's
