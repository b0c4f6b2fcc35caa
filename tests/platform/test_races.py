"""Concurrent writers of the same thing get a clean answer: the change once, and for the
others the same result (idempotent) or `AlreadyExistsError` (a 409), never a store error.

Threads against SQLite and a real PostgreSQL, where the writers' transactions overlap and
the loser of a unique constraint hears of it only at its insert."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, TypeVar

import pytest

from shipyard.errors import AlreadyExistsError
from shipyard.platform.access import Role
from shipyard.platform.auth.records import Actor
from shipyard.platform.models.endpoints import Endpoints
from shipyard.platform.models.registry import ModelRegistry
from tests.platform.conftest import HOST
from tests.platform.models.pushes import push_run

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.database import Database

T = TypeVar("T")
WRITERS = 8


def _at_once(write: Callable[[int], T]) -> list[T | BaseException]:
    """Run `write(i)` in `WRITERS` threads released together; return results or errors."""
    start = threading.Barrier(WRITERS)
    results: list[T | BaseException] = [RuntimeError("did not run")] * WRITERS

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = write(index)
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _one_made_others_refused(results: list[object]) -> None:
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, AlreadyExistsError)]
    assert len(made) == 1 and len(refused) == WRITERS - 1, results


def test_concurrent_grants_of_one_role_all_succeed(accounts: Accounts) -> None:
    accounts.add_project("taxi", actor=HOST)
    accounts.add_user("ana", actor=HOST)
    results = _at_once(lambda _i: accounts.grant("ana", "taxi", Role.RUNNER, actor=HOST))
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert [(g.user, g.role) for g in accounts.list_grants(project="taxi")] == [
        ("ana", Role.RUNNER)
    ]


def test_concurrent_creations_of_one_project_make_it_once(accounts: Accounts) -> None:
    _one_made_others_refused(_at_once(lambda _i: accounts.add_project("taxi", actor=HOST)))
    assert [p.name for p in accounts.list_projects()] == ["taxi"]


def test_concurrent_registrations_of_one_push_make_one_version(
    database: Database,
    accounts: Accounts,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)
    accounts.add_project("taxi", actor=HOST)
    registry = ModelRegistry(database, lambda project: store_url)
    _one_made_others_refused(
        _at_once(lambda _i: registry.create_model("taxi", "fares", actor=HOST))
    )
    _run, pushed = push_run(store_url, tmp_path / "models", "one")
    ana = Actor("ana")
    results = _at_once(
        lambda _i: registry.register_version("taxi", "fares", artifact_id=pushed, actor=ana)
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(new for _version, new in results) == [False] * (WRITERS - 1) + [True]  # type: ignore[misc]
    assert {version.version for version, _new in results} == {1}  # type: ignore[misc]
    endpoints = Endpoints(database)
    _one_made_others_refused(
        _at_once(lambda _i: endpoints.create("taxi", "live", model="fares", actor=ana))
    )
    assert [e.name for e in endpoints.list_endpoints("taxi")] == ["live"]


def test_concurrent_creations_of_a_projects_schema_all_succeed(store_url: str) -> None:
    # Two jobs of one project starting at once on PostgreSQL both create its schema:
    # CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent one.
    from shipyard.platform.jobs.queue import JobQueue

    queue = JobQueue(store_url)
    try:
        for attempt in range(3):
            results = _at_once(lambda _i, n=attempt: queue.create_schema(f"shipyard_race{n}"))
            assert not [r for r in results if isinstance(r, BaseException)], results
    finally:
        queue.close()
