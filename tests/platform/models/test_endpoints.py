"""The endpoints' rows on SQLite and PostgreSQL: one per name and project, what each serves,
its process's state, and the audit entries of the changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.errors import AlreadyExistsError, InvalidParameterError, NotFoundError
from shipyard.platform.auth.records import Actor
from shipyard.platform.models.documents import endpoint_document
from shipyard.platform.models.endpoints import Endpoints
from shipyard.platform.models.registry import ModelRegistry
from shipyard.serving.labels import Release
from tests.platform.conftest import HOST

if TYPE_CHECKING:
    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.database import Database

ANA = Actor("ana", "req-9")


@pytest.fixture
def endpoints(database: Database, accounts: Accounts, store_url: str) -> Endpoints:
    """Rows over projects `taxi` and `fraud`, each with a model `fares`."""
    registry = ModelRegistry(database, lambda project: store_url)
    for project in ("taxi", "fraud"):
        accounts.add_project(project, actor=HOST)
        registry.create_model(project, "fares", actor=HOST)
    return Endpoints(database)


def test_an_endpoints_row_records_its_traffic_and_its_process(
    endpoints: Endpoints, audit: AuditLog
) -> None:
    created = endpoints.create("taxi", "live", model="fares", actor=ANA)
    assert (created.state, created.stable, created.url, created.restarts) == (
        "stopped",
        None,
        None,
        0,
    )
    endpoints.create("fraud", "live", model="fares", actor=ANA)
    with pytest.raises(AlreadyExistsError, match="'taxi' has an endpoint named 'live'"):
        endpoints.create("taxi", "live", model="fares", actor=ANA)
    with pytest.raises(NotFoundError, match="no model 'tips'"):
        endpoints.create("taxi", "other", model="tips", actor=ANA)
    with pytest.raises(InvalidParameterError, match="endpoint name must be"):
        endpoints.create("taxi", ".hidden", model="fares", actor=ANA)

    release = Release(stable=1, canary=2, percent=12.5)
    endpoints.release("taxi", "live", release, actor=ANA, action="endpoint.deploy")
    running = endpoints.set_process("taxi", "live", state="running", pid=42, port=8123)
    assert (running.stable, running.canary, running.canary_percent) == (1, 2, 12.5)
    assert running.url == "http://127.0.0.1:8123"
    document = endpoint_document(running)
    assert document["traffic"] == {"stable": 1, "canary": 2, "canary_percent": 12.5}
    assert endpoints.get("fraud", "live").stable is None
    assert [(e.project, e.name) for e in endpoints.list_endpoints()] == [
        ("fraud", "live"),
        ("taxi", "live"),
    ]

    endpoints.delete("taxi", "live", actor=ANA)
    assert [e.project for e in endpoints.list_endpoints("taxi")] == []
    with pytest.raises(NotFoundError, match="no endpoint 'live'"):
        endpoints.delete("taxi", "live", actor=ANA)
    entries = [(e.action, e.detail) for e in audit.events(project="taxi") if e.actor == "ana"]
    assert entries == [
        ("endpoint.create", {"model": "fares"}),
        ("endpoint.deploy", {"stable": 1, "canary": 2, "canary_percent": 12.5}),
        ("endpoint.delete", {}),
    ]
