"""The auth API and the models API served over 127.0.0.1 on a fresh SQLite store in which
the projects keep their runs too (the users of `tests.platform.api`)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from shipyard.platform.models.registry import ModelRegistry
from shipyard.platform.models.routes import model_routes
from shipyard.platform.models.supervisor import EndpointSupervisor
from tests.environment import child_environment
from tests.platform.api import serving_auth_api

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from starlette.routing import BaseRoute

    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.database import Database
    from tests.platform.api import Server


@dataclass(frozen=True)
class ModelServer:
    """The served APIs, the store's URL, the registry and the endpoints' supervisor."""

    server: Server
    store: str
    registry: ModelRegistry
    supervisor: EndpointSupervisor


@contextmanager
def serving_model_api(folder: Path) -> Iterator[ModelServer]:
    """Serve the APIs on `folder/store.db`, in `folder` (where runs write their artifacts)."""
    store = f"sqlite:///{folder / 'store.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
            patch.delenv(var, raising=False)
        built: list[EndpointSupervisor] = []

        def routes(database: Database, audit: AuditLog) -> list[BaseRoute]:
            registry = ModelRegistry(database, lambda project: store)
            supervisor = EndpointSupervisor(
                registry, folder / "root", environment=child_environment(checkout_first=True)
            )
            built.append(supervisor)
            return model_routes(registry, supervisor, audit)

        with serving_auth_api(folder, routes) as served:
            [supervisor] = built
            supervisor.start()
            try:
                yield ModelServer(served, store, supervisor.registry, supervisor)
            finally:
                supervisor.close()
