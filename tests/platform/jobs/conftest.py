"""Fixtures of the jobs tests: a queue on a fresh database (SQLite, and PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.platform.jobs.queue import JobQueue

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def queue(store_url: str) -> Iterator[JobQueue]:
    """A queue on an empty database, closed after the test."""
    opened = JobQueue(store_url)
    yield opened
    opened.close()
