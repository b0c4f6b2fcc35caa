"""A run as JSON (one shape for every reader), run listings, and runs compared side by side."""

from __future__ import annotations

from pathlib import Path

import pytest

import shipyard
from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.runners.comparison import compare_runs
from shipyard.runners.run_json import RUN_JSON_KEYS, describe_run, list_runs
from tests.conftest import Workspace

PIPELINE = """
from shipyard import Pipeline
from tests.runners.components import double, fail, source


def numbers(value: float = 1.0, broken: bool = False, tags: tuple[str, ...] = ("a",)) -> Pipeline:
    src = source(value=value)
    last = fail(inp=src.outputs.out) if broken else double(inp=src.outputs.out)
    return Pipeline("numbers", nodes=[double(inp=last.outputs.out).with_options(name="end")])
"""


def _run(workspace: Workspace, **params: object) -> str:
    file = workspace.root / "numbers.py"
    file.write_text(PIPELINE)
    return shipyard.run(file, params=params, store=workspace.store_url, progress=False).id


def test_a_run_has_its_parameters_nodes_in_pipeline_order_and_outcome(
    workspace: Workspace,
) -> None:
    run_id = _run(workspace, value=2.0)
    with workspace.project() as project:
        described = describe_run(project, run_id[:22])  # a unique prefix is enough
    assert tuple(described) == RUN_JSON_KEYS
    assert described["id"] == run_id and described["state"] == "complete"
    assert described["parameters"] == {"value": 2.0, "broken": False, "tags": ["a"]}
    assert list(described["nodes"]) == ["source", "double", "end"]
    source = described["nodes"]["source"]
    assert (source["component"], source["state"], source["parameters"]) == (
        "source",
        "complete",
        {"value": 2.0},
    )
    assert source["outputs"]["out"]["type"] == "Metrics"
    end = described["nodes"]["end"]
    assert end["inputs"]["inp"]["id"] == described["nodes"]["double"]["outputs"]["out"]["id"]
    assert described["outcome"]["metrics"] == {
        "source": {"v": 2.0},
        "double": {"v": 4.0},
        "end": {"v": 8.0},
    }
    assert described["outcome"]["models"] == [] and described["store"] == workspace.store_url


def test_a_failed_run_keeps_the_error_and_the_skipped_nodes(workspace: Workspace) -> None:
    run_id = _run(workspace, broken=True)
    with workspace.project() as project:
        nodes = describe_run(project, run_id)["nodes"]
    assert [(n, e["state"]) for n, e in nodes.items()] == [
        ("source", "complete"),
        ("fail", "failed"),
        ("end", "skipped"),
    ]
    assert "ValueError: boom" in nodes["fail"]["error"]
    assert nodes["end"]["error"] == "upstream node(s) fail did not complete"


def test_listing_gives_parameters_and_headline_metrics(workspace: Workspace) -> None:
    first, second = _run(workspace, value=1.0), _run(workspace, value=3.0)
    with workspace.project() as project:
        listed = list_runs(project)
    assert [r["id"] for r in listed] == [second, first]
    assert [r["parameters"]["value"] for r in listed] == [3.0, 1.0]
    assert [r["metrics"] for r in listed] == [{"v": 3.0}, {"v": 1.0}]  # the first node's
    assert [(r["blessed"], r["models"]) for r in listed] == [(None, [])] * 2
    assert [r["trigger"] for r in listed] == [None, None]  # started by hand, not a trigger


def test_compare_shows_what_changed_and_which_outputs_are_the_same(
    workspace: Workspace,
) -> None:
    one, three, again = _run(workspace), _run(workspace, value=3.0), _run(workspace)
    with workspace.project() as project:
        changed = compare_runs(project, [one, three])
        same = compare_runs(project, [one, again])
    assert [r["id"] for r in changed["runs"]] == [one, three]
    assert changed["parameters"]["value"] == [1.0, 3.0]
    assert changed["changed_parameters"] == ["value"]
    assert changed["metrics"]["end"] == {"v": [4.0, 12.0]}
    assert {n: e["outputs"] for n, e in changed["nodes"].items()} == dict.fromkeys(
        ("source", "double", "end"), "changed"
    )
    assert same["changed_parameters"] == []
    assert same["nodes"]["end"] == {"states": ["complete", "cached"], "outputs": "same"}


def test_compare_needs_two_different_runs_that_exist(workspace: Workspace) -> None:
    run_id = _run(workspace)
    with workspace.project() as project:
        with pytest.raises(InvalidParameterError, match=r"at least 2 runs\. Got 1"):
            compare_runs(project, [run_id])
        with pytest.raises(InvalidParameterError, match="more than once"):
            compare_runs(project, [run_id, run_id[:22]])
        with pytest.raises(NotFoundError):
            compare_runs(project, [run_id, "1999-01-01"])


def test_a_run_object_and_its_record_agree(workspace: Workspace, tmp_path: Path) -> None:
    file = tmp_path / "numbers.py"
    file.write_text(PIPELINE)
    result = shipyard.run(file, store=workspace.store_url, progress=False)
    with workspace.project() as project:
        described = describe_run(project, result.id)
    for name, node in result.nodes.items():
        recorded = described["nodes"][name]
        assert recorded["state"] == node.state
        assert recorded["execution_id"] == node.execution_id
        assert {p: a["id"] for p, a in recorded["outputs"].items()} == {
            p: a.id for p, a in node.outputs.items()
        }
