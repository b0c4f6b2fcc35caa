"""A project filled by real runs of the penguins example, and the UI serving it read-only.

The penguins pipeline runs twice (the second run reuses every node from the cache) and once
more on a file that does not exist (a failed run, with its error and resume command).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import shipyard
from shipyard.ui import create_app
from shipyard.ui.read_only import open_read_only
from tests.ui.server import serving

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shipyard.runners import Project

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class Penguins:
    """The project and its runs: `first` made everything, `cached` reused it, `failed` failed."""

    folder: Path
    store: str
    artifacts: str
    first: str
    cached: str
    failed: str
    project: Project
    url: str


@pytest.fixture(scope="package")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Penguins]:
    folder = tmp_path_factory.mktemp("ui") / "penguins"
    shutil.copytree(EXAMPLES / "penguins", folder, ignore=shutil.ignore_patterns("models", ".*"))
    store = f"sqlite:///{folder / '.shipyard' / 'store.db'}"
    artifacts = str(folder / ".shipyard" / "artifacts")
    file = folder / "pipeline.py"
    options = {"store": store, "artifact_root": artifacts, "progress": False}
    source = str(folder / "data" / "penguins.csv")
    schema = str(folder / "schema.yaml")
    params = {"source": source, "schema": schema}
    first = shipyard.run(file, params=params, **options)  # type: ignore[arg-type]
    assert first.ok, [(n.name, n.error) for n in first.failed]
    cached = shipyard.run(file, params=params, **options)  # type: ignore[arg-type]
    broken = {"source": str(folder / "data" / "missing.csv"), "schema": schema}
    failed = shipyard.run(file, params=broken, **options)  # type: ignore[arg-type]
    assert not failed.ok
    project = open_read_only(store, artifacts)
    with serving(create_app(project)) as url:
        yield Penguins(folder, store, artifacts, first.id, cached.id, failed.id, project, url)
    project.close()
