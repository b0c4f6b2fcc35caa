"""`collect_garbage` keeps what is live: running runs, baselines, other stores' directories."""

from __future__ import annotations

from pathlib import Path

import pytest

import shipyard
from shipyard.dsl import Pipeline
from shipyard.runners import Project, Run
from shipyard.runners.gc import collect_garbage
from tests.runners.components import double, source
from tests.runners.test_resolved_inputs import blessing_pipeline


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def run(pipeline: Pipeline, store_url: str) -> Run:
    result = shipyard.run(pipeline, store=store_url, progress=False)
    assert result.ok, [n.error for n in result.failed]
    return result


def chain(value: float, name: str = "chain") -> Pipeline:
    return Pipeline(name, nodes=[double(inp=source(value=value).outputs.out)])


def live_paths(store_url: str, run: Run) -> dict[str, bool]:
    """Each output of `run`: whether its record is live and its files are there."""
    with Project.open(store=store_url) as project:
        return {
            name: project.store.get_artifact(out.id).state == "live" and out.path.is_dir()
            for name, node in run.nodes.items()
            for out in node.outputs.values()
            if out.id is not None
        }


def test_running_runs_do_not_count_toward_keep_runs(project_dir: Path, store_url: str) -> None:
    older = run(chain(1.0), store_url)
    newest = run(chain(2.0), store_url)
    with Project.open(store=store_url) as project:
        # a run in progress (this process is alive, so it is not abandoned) that reused
        # the older run's source output already
        running = project.store.create_run("chain")
        source_id = older["source"].outputs["out"].id
        assert source_id is not None
        project.store.record_execution(
            running.id, node="source", component="source", parameters={}, cache_key="k",
            state="cached", inputs={}, outputs={"out": source_id},
        )  # fmt: skip
        report = collect_garbage(project, keep_runs=1)
    assert report["kept_runs"] == 2  # the running one and the newest finished one
    assert live_paths(store_url, newest) == {"source": True, "double": True}
    assert live_paths(store_url, older) == {"source": True, "double": False}
    assert [a["name"].split("/")[2] for a in report["deleted_artifacts"]] == ["double"]


def test_the_latest_blessed_model_is_kept_as_the_next_baseline(
    project_dir: Path, store_url: str
) -> None:
    blessed = run(blessing_pipeline("a", bless=True), store_url)
    unblessed = run(blessing_pipeline("b", bless=False), store_url)
    run(blessing_pipeline("c", bless=False), store_url)
    with Project.open(store=store_url) as project:
        dry = collect_garbage(project, keep_runs=1, dry_run=True)
        report = collect_garbage(project, keep_runs=1)
    model = blessed["make_model"].outputs["model"]
    assert report["kept_baselines"] == dry["kept_baselines"] == [model.id]
    assert (model.path / "tag.txt").read_text() == "a"
    deleted = {a["name"].split("/")[1] for a in report["deleted_artifacts"]}
    assert deleted == {blessed.id, unblessed.id}  # a's blessing goes, its model stays
    assert len(report["deleted_artifacts"]) == 3
    nxt = run(blessing_pipeline("d", bless=True), store_url)
    assert nxt["judge"].outputs["blessing"].properties["baseline_tag"] == "a"


def test_another_store_never_deletes_directories_it_does_not_own(
    project_dir: Path, tmp_path: Path
) -> None:
    root = str(tmp_path / "shared-root")
    first, second = f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'second.db'}"
    owned = shipyard.run(chain(1.0), store=first, artifact_root=root, progress=False)
    shipyard.run(chain(5.0), store=second, artifact_root=root, progress=False)
    uri = owned["double"].outputs["out"].uri
    stray = Path(root, "chain", owned.id, "crashed", "out")  # unregistered, of a known run
    stray.mkdir(parents=True)
    with Project.open(store=second, artifact_root=root) as other:
        report = collect_garbage(other, keep_runs=1)
    assert Path(uri).is_dir() and stray.is_dir()
    assert uri in report["not_owned"] and str(stray) in report["not_owned"]
    assert report["removed_orphans"] == []
    with Project.open(store=first, artifact_root=root) as own:
        report = collect_garbage(own, keep_runs=1)
    assert report["removed_orphans"] == [str(stray)]
    assert not stray.exists() and Path(uri).is_dir()


def test_staging_of_runs_of_another_store_is_kept(project_dir: Path, store_url: str) -> None:
    run(chain(1.0), store_url)
    with Project.open(store=store_url) as project:
        finished = project.store.list_runs()[0].id
        foreign = project.storage.new_staging("1999-01-01T00-00-00-abcd")
        left = project.storage.new_staging(finished)
        report = collect_garbage(project, keep_runs=1)
    assert report["removed_staging"] == [finished]
    assert foreign.is_dir() and not left.exists()
