"""Fixtures of the store tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A plain engine on the test database, to look at it from outside the store."""
    created = create_engine(store_url)
    yield created
    created.dispose()
