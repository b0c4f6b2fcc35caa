"""Fixtures for the ingest tests: an output artifact, small chunks, a project to run in."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.artifacts import Examples
from shipyard.components.ingest import options
from tests.conftest import Workspace


@pytest.fixture
def examples(tmp_path: Path) -> Examples:
    """An empty output artifact, as the runner would pass it."""
    return Examples(tmp_path / "examples")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse text in 256-byte chunks, so small files exercise the multi-chunk paths."""
    monkeypatch.setattr(options, "DEFAULT_CHUNK_BYTES", 256)


@pytest.fixture
def project(workspace: Workspace) -> Workspace:
    """Run pipelines in `tmp_path`, with a fresh SQLite store (the shared workspace)."""
    return workspace
