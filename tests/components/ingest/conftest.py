"""Fixtures for the ingest tests: an output artifact, small chunks, a project to run in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import shipyard
from shipyard.artifacts import Examples
from shipyard.components.ingest import options
from shipyard.dsl import Pipeline
from shipyard.runners import Project, Run


@pytest.fixture
def examples(tmp_path: Path) -> Examples:
    """An empty output artifact, as the runner would pass it."""
    return Examples(tmp_path / "examples")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse text in 256-byte chunks, so small files exercise the multi-chunk paths."""
    monkeypatch.setattr(options, "DEFAULT_CHUNK_BYTES", 256)


class Workspace:
    """A project directory with its own store; runs pipelines without a display."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store_url = f"sqlite:///{root / '.shipyard' / 'store.db'}"

    def run(self, pipeline: Pipeline, **run_options: Any) -> Run:
        run_options.setdefault("progress", False)
        return shipyard.run(pipeline, store=self.store_url, **run_options)

    def open(self) -> Project:
        return Project.open(store=self.store_url)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Run pipelines in `tmp_path`, with a fresh SQLite store."""
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)
    return Workspace(tmp_path)
