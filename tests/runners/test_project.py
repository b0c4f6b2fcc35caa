"""`Project.open`: where the store is, and read-only opening that never creates one."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import NotFoundError
from shipyard.runners import Project


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)


def test_reading_without_a_store_says_where_it_looked_and_creates_nothing(
    tmp_path: Path,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        Project.open(cwd=tmp_path, create=False)
    message = str(caught.value)
    assert f"looked for a .shipyard/ directory in {tmp_path} and every directory above" in message
    assert "shipyard run PIPELINE.py" in message and "--store URL" in message
    assert list(tmp_path.iterdir()) == []


def test_reading_finds_the_store_of_a_parent_directory(tmp_path: Path) -> None:
    with Project.open(cwd=tmp_path) as project:
        project.store.create_run("p")  # the first run creates .shipyard/store.db here
    (tmp_path / "a" / "b").mkdir(parents=True)
    with Project.open(cwd=tmp_path / "a" / "b", create=False) as project:
        assert [run.pipeline for run in project.store.list_runs()] == ["p"]
    assert not (tmp_path / "a" / ".shipyard").exists()


def test_an_empty_shipyard_directory_or_a_missing_sqlite_file_is_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".shipyard").mkdir()
    with pytest.raises(NotFoundError, match=r"No metadata store in .*\.shipyard \(found\)"):
        Project.open(cwd=tmp_path, create=False)
    missing = tmp_path / "other.db"
    with pytest.raises(NotFoundError, match=rf"No metadata store at {missing}: the flag store"):
        Project.open(cwd=tmp_path, store=f"sqlite:///{missing}", create=False)
    monkeypatch.setenv("SHIPYARD_STORE", "sqlite:///relative.db")
    with pytest.raises(NotFoundError, match=r"relative\.db: the environment store URL"):
        Project.open(cwd=tmp_path, create=False)
    assert not missing.exists() and not (tmp_path / "relative.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".shipyard"]
