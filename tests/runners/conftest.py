from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import shipyard
from shipyard.dsl import Pipeline
from shipyard.runners import Project, Run


class Workspace:
    """A project directory with its own store; runs pipelines without a display."""

    def __init__(self, root: Path, store_url: str) -> None:
        self.root = root
        self.store_url = store_url

    def run(self, pipeline: Pipeline, **options: Any) -> Run:
        options.setdefault("progress", False)
        return shipyard.run(pipeline, store=self.store_url, **options)

    def project(self) -> Project:
        return Project.open(store=self.store_url)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)
    return Workspace(tmp_path, f"sqlite:///{tmp_path / '.shipyard' / 'store.db'}")
