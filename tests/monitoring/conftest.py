"""Fixtures of the monitoring tests: a reference, a log directory and a store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.store import open_store
from tests.monitoring.logs import write_reference

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.store import MetadataStore


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    return write_reference(tmp_path / "reference.parquet")


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "taxi" / "3"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()
