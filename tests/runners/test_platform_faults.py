"""Runs under the platform's faults: another filesystem, a full disk, a read-only root, a store
deleted or replaced mid-run. The platform's faults are told apart from the component's."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard import Pipeline
from shipyard.errors import ComponentFailed, StorageError, StoreError
from shipyard.store import open_store
from tests.conftest import Workspace
from tests.mounts import tmpfs
from tests.runners.components import CALLS, double, source
from tests.runners.fault_components import blob, store_removed


def chain() -> Pipeline:
    return Pipeline("chain", nodes=[double(inp=source(value=3.0).outputs.out)])


def test_an_artifact_root_on_another_filesystem_runs_and_caches(workspace: Workspace) -> None:
    with tmpfs(workspace.root / "mnt") as mount:
        root = str(mount / "artifacts")
        result = workspace.run(chain(), artifact_root=root)
        assert result.ok, [node.error for node in result.failed]
        output = result["double"].outputs["out"]
        assert Path(output.uri).is_relative_to(mount)
        assert output.load() == {"v": 6.0}
        again = workspace.run(chain(), artifact_root=root)
        assert {node.state for node in again.nodes.values()} == {"cached"}
        assert not list((mount / "artifacts" / ".shipyard-staging").iterdir())


def test_a_memory_artifact_root_runs_and_caches(workspace: Workspace) -> None:
    CALLS.clear()
    result = workspace.run(chain(), artifact_root="memory://platform-faults")
    assert result.ok, [node.error for node in result.failed]
    assert result["double"].outputs["out"].uri.startswith("memory://platform-faults/chain/")
    assert result["double"].outputs["out"].load() == {"v": 6.0}
    again = workspace.run(chain(), artifact_root="memory://platform-faults")
    assert {node.state for node in again.nodes.values()} == {"cached"}
    assert CALLS == {"source": 1, "double": 1}


def test_a_full_disk_fails_the_node_as_the_platforms_fault(workspace: Workspace) -> None:
    with tmpfs(workspace.root / "mnt", size="64k") as mount:
        pipeline = Pipeline("big", nodes=[blob(size_bytes=400_000)])
        result = workspace.run(pipeline, artifact_root=str(mount / "artifacts"))
        assert result.state == "failed"
        error = result["blob"].error
        assert isinstance(error, StorageError), error
        assert isinstance(error.__cause__, ComponentFailed)  # the component met it: kept
        assert "while node 'blob' wrote its outputs" in str(error)
        assert "(ENOSPC)" in str(error)
        assert f"df -h {mount / 'artifacts' / '.shipyard-staging'}" in str(error)
        with workspace.project() as project:
            (execution,) = project.store.list_executions(result.id)
        assert execution.state == "failed"
        assert execution.error is not None
        assert execution.error.startswith("Artifact storage error: Shipyard failed while node")
        assert "The component's traceback:" in execution.error
        assert not list((mount / "artifacts" / ".shipyard-staging").iterdir())


def test_a_failed_publish_fails_the_node_as_the_platforms_fault(workspace: Workspace) -> None:
    root = workspace.root / "artifacts"
    with tmpfs(root / "big", size="64k"):  # a mount below the root: published by copying
        result = workspace.run(
            Pipeline("big", nodes=[blob(size_bytes=400_000)]), artifact_root=str(root)
        )
        error = result["blob"].error
        assert isinstance(error, StorageError), error
        assert not isinstance(error.__cause__, ComponentFailed)
        assert f"Shipyard failed publishing {root}/big/{result.id}/blob/out" in str(error)
        assert "(ENOSPC)" in str(error)
        with workspace.project() as project:
            (execution,) = project.store.list_executions(result.id)
            assert execution.error is not None
            assert execution.error.startswith("Artifact storage error: Shipyard failed publishing")
            assert project.store.list_artifacts() == []
        assert not list((workspace.root / ".shipyard" / "staging").rglob("*.bin"))


def test_a_read_only_root_stops_the_run_before_any_node_runs(workspace: Workspace) -> None:
    CALLS.clear()
    with tmpfs(workspace.root / "ro", read_only=True) as mount:
        with pytest.raises(StorageError, match=r"artifact root is writable.*EROFS") as caught:
            workspace.run(chain(), artifact_root=str(mount / "artifacts"))
        assert caught.value.path == str(mount / "artifacts")
    assert CALLS == {}
    with workspace.project() as project:
        assert project.store.list_runs() == []


@pytest.mark.parametrize("how", ["delete", "replace"])
def test_a_store_file_removed_mid_run_fails_the_run_loudly(workspace: Workspace, how: str) -> None:
    url = workspace.store_url
    with pytest.raises(StoreError, match=f"was {how}d" if how == "delete" else "was replaced"):
        workspace.run(store_removed(url, how))
    store = open_store(url)
    try:
        assert [run.state for run in store.list_runs()] in ([], ["running"])
    finally:
        store.close()


@pytest.mark.postgres
def test_a_postgresql_store_dropped_mid_run_fails_the_run_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    monkeypatch.chdir(tmp_path)
    url = make_url(postgres_url).set(database="vanishing").render_as_string(hide_password=False)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "vanishing"'))
        with pytest.raises(StoreError, match=r"The metadata store at .* failed"):
            Workspace(tmp_path, url).run(store_removed(url, "drop"))
        with admin.connect() as conn:
            assert (
                conn.execute(
                    text("SELECT count(*) FROM pg_database WHERE datname = 'vanishing'")
                ).scalar_one()
                == 0
            )
    finally:
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "vanishing" WITH (FORCE)'))
        admin.dispose()
