"""Fixtures of the store tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine

from shipyard.store.sql import SqlStore

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A plain engine on the test database, to look at it from outside the store."""
    created = create_engine(store_url)
    yield created
    created.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A fresh store on the test database, closed after the test."""
    opened = SqlStore(store_url)
    yield opened
    opened.close()
