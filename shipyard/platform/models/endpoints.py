"""The endpoints' rows: what each endpoint should serve, and the state of its process.

The row is the endpoint's truth: a restarted server reads it to adopt or restart the
endpoint's process (`manager`). A change of what it serves (`release`) is written with its
audit-log entry in one transaction; the process's state (`set_process`) is the manager's own
bookkeeping and is not audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, insert, select, update

from shipyard.errors import AlreadyExistsError, NotFoundError
from shipyard.platform.auth.audit import append
from shipyard.platform.auth.names import taken_once
from shipyard.platform.models.records import Endpoint
from shipyard.platform.models.registry import check_model_name, model_id_of, project_id_of
from shipyard.store.sql.tables import endpoints, projects, registered_models

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from shipyard.platform.auth.records import Actor
    from shipyard.platform.database import Database
    from shipyard.serving.labels import Release

__all__ = ["Endpoints"]

_ENDPOINT: Final = select(
    projects.c.name.label("project"),
    endpoints.c.name,
    registered_models.c.name.label("model"),
    *(c for c in endpoints.c if c.name not in ("id", "project_id", "name", "model_id")),
).select_from(
    endpoints.join(projects, projects.c.id == endpoints.c.project_id).join(
        registered_models, registered_models.c.id == endpoints.c.model_id
    )
)


class Endpoints:
    """The endpoints' rows in the platform's database.

    Args:
        database: The platform's database.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def create(self, project: str, name: str, *, model: str, actor: Actor) -> Endpoint:
        """Add an endpoint serving `model` (nothing yet: deploy a version to start it).

        Raises:
            InvalidParameterError: The name is not allowed.
            NotFoundError: No such project or model.
            AlreadyExistsError: The project has an endpoint of this name.
        """
        check_model_name(name, "endpoint")
        now = datetime.now(UTC)
        with taken_once("endpoint", name), self._database.write() as conn:
            project_id = project_id_of(conn, project)
            model_id = model_id_of(conn, project, model)
            taken = select(endpoints.c.id).where(
                endpoints.c.project_id == project_id, endpoints.c.name == name
            )
            if conn.scalar(taken) is not None:
                raise AlreadyExistsError(
                    f"Project {project!r} has an endpoint named {name!r} already."
                )
            conn.execute(
                insert(endpoints).values(
                    project_id=project_id,
                    name=name,
                    model_id=model_id,
                    canary_percent=0.0,
                    state="stopped",
                    restarts=0,
                    message="created; deploy a version to start it",
                    created_by=actor.name,
                    created_at=now,
                    updated_at=now,
                )
            )
            append(
                conn,
                actor,
                "endpoint.create",
                project=project,
                target=name,
                detail={"model": model},
            )
        return self.get(project, name)

    def get(self, project: str, name: str) -> Endpoint:
        """Return an endpoint.

        Raises:
            NotFoundError: There is none.
        """
        with self._database.read() as conn:
            row = conn.execute(_ENDPOINT.where(*_named(conn, project, name))).first()
        if row is None:
            raise _no_endpoint(project, name)
        return Endpoint(**row._mapping)

    def list_endpoints(self, project: str | None = None) -> list[Endpoint]:
        """Return the endpoints of `project` (None: of every project), by project and name."""
        query = _ENDPOINT.order_by(projects.c.name, endpoints.c.name)
        if project is not None:
            query = query.where(projects.c.name == project)
        with self._database.read() as conn:
            return [Endpoint(**row._mapping) for row in conn.execute(query)]

    def release(
        self, project: str, name: str, release: Release, *, actor: Actor, action: str
    ) -> Endpoint:
        """Record what the endpoint serves now, audited as `action` (`endpoint.deploy`, ...).

        Raises:
            NotFoundError: There is no such endpoint.
        """
        values = {
            "stable": release.stable,
            "canary": release.canary,
            "canary_percent": release.percent,
        }
        with self._database.write() as conn:
            self._update(conn, project, name, values)
            append(conn, actor, action, project=project, target=name, detail=values)
        return self.get(project, name)

    def set_process(self, project: str, name: str, **values: Any) -> Endpoint:
        """Record the state of the endpoint's process: `state`, `port`, `pid`, `restarts`,
        `message`.

        Raises:
            NotFoundError: There is no such endpoint.
        """
        with self._database.write() as conn:
            self._update(conn, project, name, values)
        return self.get(project, name)

    def delete(self, project: str, name: str, *, actor: Actor) -> None:
        """Remove the endpoint's row (its process is stopped first, by the manager).

        Raises:
            NotFoundError: There is no such endpoint.
        """
        with self._database.write() as conn:
            done = conn.execute(delete(endpoints).where(*_named(conn, project, name)))
            if done.rowcount == 0:
                raise _no_endpoint(project, name)
            append(conn, actor, "endpoint.delete", project=project, target=name)

    def _update(self, conn: Connection, project: str, name: str, values: dict[str, Any]) -> None:
        changed = conn.execute(
            update(endpoints)
            .where(*_named(conn, project, name))
            .values(**values, updated_at=datetime.now(UTC))
        )
        if changed.rowcount == 0:
            raise _no_endpoint(project, name)


def _named(conn: Connection, project: str, name: str) -> tuple[Any, ...]:
    project_id = conn.scalar(select(projects.c.id).where(projects.c.name == project))
    return (endpoints.c.project_id == project_id, endpoints.c.name == name)


def _no_endpoint(project: str, name: str) -> NotFoundError:
    return NotFoundError(
        f"Project {project!r} has no endpoint {name!r}; create it with "
        f"POST /api/projects/{project}/endpoints."
    )
