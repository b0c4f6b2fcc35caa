"""Fixtures of the monitoring tests: a reference, a log directory and a project's store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.monitoring.logs import write_reference
from tests.monitoring.runs import open_project

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.runners import Project


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    return write_reference(tmp_path / "reference.parquet")


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "taxi" / "3"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with open_project(tmp_path) as opened:
        yield opened
