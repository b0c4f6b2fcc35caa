"""`shipyard gc` removes finished training checkpoints and interrupted push copies only."""

from __future__ import annotations

from pathlib import Path

import pytest

import shipyard
from shipyard.components import push
from shipyard.dsl import Pipeline
from shipyard.runners import Project
from shipyard.runners.gc import collect_garbage
from tests.runners.test_resolved_inputs import judge, make_model


def pushed(tag: str, base: str) -> Pipeline:
    made = make_model(tag=tag)
    judged = judge(model=made.outputs.model, bless=True)
    return Pipeline(
        "pushing",
        nodes=[
            push(model=made.outputs.model, blessing=judged.outputs.blessing, name="m", base=base)
        ],
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)
    for base in (str(tmp_path / "models"), str(tmp_path / "other")):
        result = shipyard.run(pushed("a", base), progress=False)
        assert result.ok, [n.error for n in result.failed]
    return Project.open()


def test_finished_checkpoints_go_and_resumable_ones_stay(project: Project) -> None:
    with project:
        [execution, *_] = project.store.list_executions(project.store.list_runs()[-1].id)
        finished = project.storage.checkpoint_dir(execution.cache_key)
        resumable = project.storage.checkpoint_dir("f" * 64)  # no execution completed it
        for path in (finished, resumable):
            path.mkdir(parents=True)
            (path / "last.pt").write_bytes(b"state")
        dry = collect_garbage(project, dry_run=True)
        assert dry["removed_checkpoints"] == [str(finished)] and finished.is_dir()
        report = collect_garbage(project)
    assert report["removed_checkpoints"] == [str(finished)]
    assert not finished.exists() and (resumable / "last.pt").is_file()


def test_interrupted_push_copies_go_unless_a_push_is_running(
    project: Project, tmp_path: Path
) -> None:
    copies = [tmp_path / "models" / "m" / ".push-1a2b", tmp_path / "other" / "m" / ".push-3c"]
    for copy in copies:
        copy.mkdir()
        (copy / "model.onnx").write_bytes(b"half")
    version = tmp_path / "models" / "m" / "1"
    with project:
        running = project.store.create_run("pushing")  # a push in progress: copies are live
        execution = project.store.start_execution(
            running.id, node="push", component="push", parameters={}, cache_key="", inputs={}
        )
        assert collect_garbage(project, dry_run=True)["removed_push_copies"] == []
        project.store.fail_execution(execution.id, "interrupted")
        project.store.finish_run(running.id, "failed")
        dry = collect_garbage(project, dry_run=True)
        assert dry["removed_push_copies"] == sorted(map(str, copies))
        assert all(copy.is_dir() for copy in copies)
        report = collect_garbage(project)
    assert report["removed_push_copies"] == sorted(map(str, copies))
    assert not any(copy.exists() for copy in copies)
    assert (version / "tag.txt").read_text() == "a"  # pushed versions are never touched
