from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from shipyard import Pipeline
from shipyard.io import ArtifactStorage
from tests.conftest import Workspace
from tests.runners.components import (
    BARRIER,
    CALLS,
    add,
    double,
    export_to,
    fail,
    gate,
    meet,
    read_file,
    source,
)


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def diamond(value: float = 1.0) -> Pipeline:
    src = source(value=value)
    left = double(inp=src.outputs.out).with_options(name="left")
    right = double(inp=src.outputs.out).with_options(name="right")
    return Pipeline("diamond", nodes=[add(left=left.outputs.out, right=right.outputs.out)])


def test_runs_nodes_in_order_and_records_outputs(workspace: Workspace) -> None:
    result = workspace.run(diamond(3.0))
    assert result.ok, result.failed
    assert result["add"].outputs["out"].load() == {"v": 12.0}
    assert [n.state for n in result.nodes.values()] == ["complete"] * 4
    with workspace.project() as project:
        executions = project.store.list_executions(result.id)
        assert executions[0].node == "source"
        assert [e.node for e in executions][-1] == "add"
        artifact = result["add"].outputs["out"]
        record = project.store.get_artifact(artifact.id)
        assert record.name == f"diamond/{result.id}/add/out"
        assert record.state == "live" and record.fingerprint == artifact.fingerprint
        assert Path(record.uri).is_dir()


def test_independent_nodes_run_concurrently(workspace: Workspace) -> None:
    BARRIER["meet"] = threading.Barrier(2)
    src = source()
    a = meet(inp=src.outputs.out, name="a").with_options(name="a")
    b = meet(inp=src.outputs.out, name="b").with_options(name="b")
    result = workspace.run(Pipeline("parallel", nodes=[a, b]), max_workers=2)
    assert result.ok, [n.error for n in result.failed]  # a barrier timeout would fail a node


def test_unchanged_rerun_is_cached(workspace: Workspace) -> None:
    first = workspace.run(diamond())
    second = workspace.run(diamond())
    assert second.ok
    assert {n.state for n in second.nodes.values()} == {"cached"}
    assert CALLS == {"source": 1, "double": 2, "add": 1}
    assert second["add"].cached_from == first["add"].execution_id
    assert second["add"].outputs["out"].uri == first["add"].outputs["out"].uri


def test_changed_parameter_reexecutes_it_and_downstream(workspace: Workspace) -> None:
    workspace.run(diamond(1.0))
    result = workspace.run(diamond(2.0))
    assert {n.state for n in result.nodes.values()} == {"complete"}
    assert result["add"].outputs["out"].load() == {"v": 8.0}


def test_same_content_upstream_keeps_downstream_cached(workspace: Workspace) -> None:
    workspace.run(diamond())
    result = workspace.run(diamond(), rerun=["source"], cache=True)
    assert result["source"].state == "complete"
    # rerun forces everything downstream of source too
    assert result["add"].state == "complete"
    again = workspace.run(diamond())
    assert {n.state for n in again.nodes.values()} == {"cached"}


def test_no_cache_and_per_node_switch(workspace: Workspace) -> None:
    workspace.run(diamond())
    assert {n.state for n in workspace.run(diamond(), cache=False).nodes.values()} == {"complete"}
    pipeline = diamond()
    pipeline["left"].with_options(cache=False)
    states = {n.name: n.state for n in workspace.run(pipeline).nodes.values()}
    assert states == {"source": "cached", "left": "complete", "right": "cached", "add": "cached"}


def test_rerun_from_a_node(workspace: Workspace) -> None:
    workspace.run(diamond())
    states = {n.name: n.state for n in workspace.run(diamond(), rerun=["left"]).nodes.values()}
    assert states == {"source": "cached", "left": "complete", "right": "cached", "add": "complete"}
    with pytest.raises(ValueError, match="'nope', not a node"):
        workspace.run(diamond(), rerun=["nope"])


def test_editing_a_source_file_invalidates_the_cache(workspace: Workspace) -> None:
    data = workspace.root / "data.txt"
    data.write_text("one")
    workspace.run(Pipeline("files", nodes=[read_file(path=str(data))]))
    assert (
        workspace.run(Pipeline("files", nodes=[read_file(path=str(data))]))["read_file"].state
        == "cached"
    )
    data.write_text("two")
    result = workspace.run(Pipeline("files", nodes=[read_file(path=str(data))]))
    assert result["read_file"].state == "complete"
    assert (result["read_file"].outputs["out"].path / "copy.txt").read_text() == "two"


def test_what_a_component_writes_to_is_not_part_of_its_cache_key(workspace: Workspace) -> None:
    target = workspace.root / "exported"
    first = workspace.run(Pipeline("writes", nodes=[export_to(target=str(target))]))
    assert first["export_to"].state == "complete"
    again = workspace.run(Pipeline("writes", nodes=[export_to(target=str(target))]))
    assert again["export_to"].state == "cached"  # its own writes changed nothing
    changed = workspace.run(Pipeline("writes", nodes=[export_to(target=str(target), value=2.0)]))
    assert changed["export_to"].state == "complete"


def test_failure_skips_downstream_and_keeps_the_user_traceback(workspace: Workspace) -> None:
    src = source()
    broken = fail(inp=src.outputs.out, message="bad row 7")
    after = double(inp=broken.outputs.out)
    independent = double(inp=src.outputs.out).with_options(name="independent")
    result = workspace.run(Pipeline("failing", nodes=[after, independent]))
    assert not result.ok and result.state == "failed"
    states = {n.name: n.state for n in result.nodes.values()}
    assert states == {
        "source": "complete",
        "fail": "failed",
        "double": "skipped",
        "independent": "complete",
    }
    error = result["fail"].error
    assert error is not None and isinstance(error.__cause__, ValueError)
    assert "components.py" in error.user_traceback and "bad row 7" in error.user_traceback
    assert "shipyard/engines" not in error.user_traceback
    with workspace.project() as project:
        run = project.store.get_run(result.id)
        assert run.state == "failed"
        executions = {e.node: e for e in project.store.list_executions(result.id)}
        assert executions["fail"].state == "failed" and "bad row 7" in (
            executions["fail"].error or ""
        )
        assert executions["double"].state == "skipped"
        names = {a.name.split("/")[2] for a in project.store.list_artifacts(run_id=result.id)}
        assert "fail" not in names  # the half-written output was never registered
    assert not list((workspace.root / ".shipyard" / "staging").glob(f"{result.id}/*/partial.txt"))


def test_a_stopped_node_publishes_and_records_its_outputs(workspace: Workspace) -> None:
    src = source(value=3.0)
    stopped = gate(inp=src.outputs.out, limit=1.0)
    after = double(inp=stopped.outputs.out)
    result = workspace.run(Pipeline("gated", nodes=[after]))
    assert {n.name: n.state for n in result.nodes.values()} == {
        "source": "complete",
        "gate": "failed",
        "double": "skipped",
    }
    error = result["gate"].error
    assert error is not None and "3.0 is over 1.0" in str(error)
    verdict = result["gate"].outputs["out"]
    assert verdict.load() == {"v": 3.0, "over": 1.0} and verdict.id is not None
    assert verdict.path.is_dir() and ".shipyard/artifacts/gated" in str(verdict.path)
    with workspace.project() as project:
        executions = {e.node: e for e in project.store.list_executions(result.id)}
        assert executions["gate"].state == "failed"
        assert "3.0 is over 1.0" in (executions["gate"].error or "")
        outputs = [e for e in project.store.events_of_execution(executions["gate"].id)]
        assert [(e.kind, e.name, e.artifact_id) for e in outputs if e.kind == "output"] == [
            ("output", "out", verdict.id)
        ]
        record = project.store.get_artifact(verdict.id)
        assert record.name == f"gated/{result.id}/gate/out" and record.state == "live"
    again = workspace.run(Pipeline("gated", nodes=[after]))
    assert again["gate"].state == "failed" and again["source"].state == "cached"
    assert CALLS["source"] == 1


def test_failure_while_publishing_registers_nothing_and_next_run_resumes(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ArtifactStorage.publish

    def crash_on_double(self: ArtifactStorage, staging: Path, uri: str) -> Path:
        if uri.endswith("/double/out"):
            raise OSError("disk full")
        return original(self, staging, uri)

    monkeypatch.setattr(ArtifactStorage, "publish", crash_on_double)
    pipeline = Pipeline("publish", nodes=[double(inp=source().outputs.out)])
    result = workspace.run(pipeline)
    assert result["double"].state == "failed" and "disk full" in str(result["double"].error)
    with workspace.project() as project:
        assert len(project.store.list_artifacts(run_id=result.id)) == 1
    monkeypatch.setattr(ArtifactStorage, "publish", original)
    resumed = workspace.run(Pipeline("publish", nodes=[double(inp=source().outputs.out)]))
    assert {n.name: n.state for n in resumed.nodes.values()} == {
        "source": "cached",
        "double": "complete",
    }


def test_store_failure_after_publish_leaves_no_registered_artifact(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.store.sql import SqlStore

    original = SqlStore.complete_execution

    def crash(self: SqlStore, execution_id: int, outputs: dict, **options: Any) -> dict:  # type: ignore[type-arg]
        if "double" in next(iter(outputs.values())).name:
            raise OSError("connection lost")
        return original(self, execution_id, outputs, **options)

    monkeypatch.setattr(SqlStore, "complete_execution", crash)
    result = workspace.run(Pipeline("storefail", nodes=[double(inp=source().outputs.out)]))
    assert result["double"].state == "failed"
    published = workspace.root / ".shipyard" / "artifacts" / "storefail" / result.id / "double"
    assert not (published / "out").exists()


def test_fsspec_artifact_root(workspace: Workspace) -> None:
    root = "memory://shipyard-test-artifacts"
    first = workspace.run(diamond(), artifact_root=root)
    assert first.ok, first.failed
    uri = first["add"].outputs["out"].uri
    assert uri.startswith(root)
    storage = ArtifactStorage(root, scratch_dir=workspace.root / ".shipyard")
    assert storage.exists(uri)
    second = workspace.run(diamond(), artifact_root=root)
    assert {n.state for n in second.nodes.values()} == {"cached"}


def test_single_node_runs_interactively_and_displays_itself(workspace: Workspace) -> None:
    node = double(inp=source(value=4.0).outputs.out)
    result = workspace.run(node)
    assert result.pipeline == "interactive"
    artifact = result[node.outputs.out]
    assert artifact.load() == {"v": 8.0}
    page = artifact._repr_html_()
    assert "Metrics" in page and artifact.uri in page
    assert "double" in result._repr_html_()


def test_pipeline_shapes_on_every_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    space = Workspace(tmp_path, store_url)
    single = Pipeline("single", nodes=[source()])
    chain = Pipeline(
        "chain",
        nodes=[
            double(inp=double(inp=source().outputs.out).outputs.out).with_options(name="second")
        ],
    )
    for pipeline in (single, chain, diamond()):
        first = space.run(pipeline)
        assert first.ok, first.failed
        again = space.run(pipeline)
        assert {n.state for n in again.nodes.values()} == {"cached"}
    with space.project() as project:
        assert len(project.store.list_runs()) == 6


def test_depends_on_invalidates_the_cache_when_external_state_changes(
    workspace: Workspace,
) -> None:
    from tests.runners.components import count_files

    folder = workspace.root / "incoming"
    folder.mkdir()
    (folder / "a.csv").write_text("1")
    pipeline = Pipeline("watch", nodes=[count_files(folder=str(folder))])
    assert workspace.run(pipeline)["count_files"].state == "complete"
    assert workspace.run(pipeline)["count_files"].state == "cached"
    (folder / "b.csv").write_text("2")
    result = workspace.run(pipeline)
    assert result["count_files"].state == "complete"
    assert result["count_files"].outputs["out"].load() == {"files": 2.0}


def test_dict_of_paths_resolve_and_arrive_as_paths(workspace: Workspace) -> None:
    from tests.runners.components import read_splits

    (workspace.root / "t.txt").write_text("train")
    (workspace.root / "e.txt").write_text("eval")
    node = read_splits(sources={"train": "t.txt", "eval": "e.txt"})
    assert node.parameters["sources"]["train"] == str(Path(__file__).parent / "t.txt")
    absolute = {"train": str(workspace.root / "t.txt"), "eval": str(workspace.root / "e.txt")}
    result = workspace.run(Pipeline("splits", nodes=[read_splits(sources=absolute)]))
    assert result.ok, result.failed
    assert result["read_splits"].outputs["out"].load() == {"train": 5.0, "eval": 4.0}
