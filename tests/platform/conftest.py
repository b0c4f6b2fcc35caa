"""Fixtures of the platform tests: the platform's database with accounts and an audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher

from shipyard.platform.auth import passwords
from shipyard.platform.auth.accounts import Accounts
from shipyard.platform.auth.audit import AuditLog
from shipyard.platform.auth.records import Actor
from shipyard.platform.database import Database

if TYPE_CHECKING:
    from collections.abc import Iterator

HOST = Actor("host:tester")
"""The CLI on the server host, as the audit log names it."""


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with argon2id at its lowest cost: the tests add many users."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_HASHER", cheap)


@pytest.fixture
def database(store_url: str) -> Iterator[Database]:
    """The platform's database in a fresh store (SQLite, and PostgreSQL with -m postgres)."""
    opened = Database(store_url)
    yield opened
    opened.close()


@pytest.fixture
def accounts(database: Database) -> Accounts:
    """Users, tokens, projects and grants in the fresh database."""
    return Accounts(database)


@pytest.fixture
def audit(database: Database) -> AuditLog:
    """The audit log of the fresh database."""
    return AuditLog(database)
