"""Each node's log: kept beside its outputs while it runs, read back whole lines at a time,
and printed by `shipyard runs logs` with the same JSON as the UI's API."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics
from shipyard.cli.main import app
from shipyard.errors import NotFoundError
from shipyard.runners.node_logs import LOG_FILENAME, read_node_log, run_logs
from tests.runners.components import source

if TYPE_CHECKING:
    from tests.conftest import Workspace


@component
def talk(inp: Metrics, out: Out[Metrics]) -> None:
    log = logging.getLogger("tests.talk")
    log.setLevel(logging.INFO)
    log.info("value %s", inp.load()["v"])
    log.warning("twice\nover two lines")
    out.save({"v": inp.load()["v"] * 2})


def _pipeline() -> Pipeline:
    src = source(value=2.0)
    return Pipeline("talky", nodes=[src, talk(inp=src.outputs.out)])


def test_a_nodes_records_are_kept_beside_its_outputs_and_read_back(workspace: Workspace) -> None:
    run = workspace.run(_pipeline())
    assert run.ok
    with workspace.project() as project:
        logs = run_logs(project, run.id)
        path = Path(project.storage.uri_for("talky", run.id, "talk", LOG_FILENAME))
    assert path.is_file()
    assert logs["run"] == run.id and logs["pipeline"] == "talky"
    assert logs["nodes"]["source"] == {"state": "complete", "entries": []}
    entries = logs["nodes"]["talk"]["entries"]
    assert [(e["level"], e["logger"], e["message"]) for e in entries] == [
        ("INFO", "tests.talk", "value 2.0"),
        ("WARNING", "tests.talk", "twice\nover two lines"),
    ]
    assert entries[0]["time"].endswith("+00:00")  # ISO 8601, UTC

    cached = workspace.run(_pipeline())
    with workspace.project() as project:
        again = run_logs(project, cached.id, "talk")
    assert again["nodes"] == {"talk": {"state": "cached", "entries": []}}


def test_an_unknown_node_is_named_with_the_runs_nodes(workspace: Workspace) -> None:
    run = workspace.run(_pipeline())
    with workspace.project() as project, pytest.raises(NotFoundError) as caught:
        run_logs(project, run.id, "tlak")
    assert "has no node 'tlak'; its nodes: source, talk" in str(caught.value)


def test_a_line_still_being_written_waits_for_the_next_read(workspace: Workspace) -> None:
    run = workspace.run(_pipeline())
    with workspace.project() as project:
        storage = project.storage
        path = Path(storage.uri_for("talky", run.id, "talk", LOG_FILENAME))
        whole = path.read_bytes()
        record = {"time": "2026-01-05T12:03:07.123+00:00", "level": "INFO", "logger": "x"}
        line = json.dumps({**record, "message": "late"}).encode() + b"\n"
        with path.open("ab") as file:
            file.write(line[:10])  # half a record, as a writer mid-write leaves it
        entries, offset = read_node_log(storage, "talky", run.id, "talk")
        assert len(entries) == 2 and offset == len(whole)
        with path.open("ab") as file:
            file.write(line[10:])
        entries, offset = read_node_log(storage, "talky", run.id, "talk", offset=offset)
        assert [e["message"] for e in entries] == ["late"]
        assert offset == len(whole) + len(line)
        assert read_node_log(storage, "talky", run.id, "talk", offset=offset) == ([], offset)


def test_shipyard_runs_logs_prints_the_apis_json_and_readable_lines(workspace: Workspace) -> None:
    run = workspace.run(_pipeline())
    store = ["--store", workspace.store_url]
    as_json = CliRunner().invoke(app, ["runs", "logs", run.id, "--json", *store])
    assert as_json.exit_code == 0, as_json.output
    with workspace.project() as project:
        assert json.loads(as_json.stdout) == run_logs(project, run.id)
    text = CliRunner().invoke(app, ["runs", "logs", run.id[:12], "--node", "talk", *store])
    assert text.exit_code == 0, text.output
    assert "INFO    tests.talk: value 2.0" in text.stdout
    assert "WARNING tests.talk: twice\nover two lines" in text.stdout
    unknown = CliRunner().invoke(app, ["runs", "logs", run.id, "--node", "nope", *store])
    assert isinstance(unknown.exception, NotFoundError)  # the entry point prints its headline
    assert "has no node 'nope'" in str(unknown.exception)
