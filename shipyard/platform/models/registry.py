"""The model registry: a project's registered models and their versions.

A version is a pushed model of the project's store (`pushes.find_push`), numbered 1, 2, ...
per model in the order of registration. Registering the same pushed model again returns the
version it already is (idempotent). Each change is written with its audit-log entry in one
transaction. Concurrent writers of the same name or push get the answer of whoever came
second (a 409, or the version already registered), never a store error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy import func, insert, select

from shipyard.errors import AlreadyExistsError, InvalidParameterError, NotFoundError
from shipyard.platform.auth.audit import append
from shipyard.platform.auth.names import taken_once
from shipyard.platform.database import retry_lost_races
from shipyard.platform.models.pushes import find_push
from shipyard.platform.models.records import ModelVersion, RegisteredModel
from shipyard.serving.config import name_problem
from shipyard.store.sql.tables import model_versions, projects, registered_models

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection

    from shipyard.platform.auth.records import Actor
    from shipyard.platform.database import Database

__all__ = ["ModelRegistry", "check_model_name", "model_id_of", "project_id_of"]

_MAX_DESCRIPTION_CHARS: Final = 10_000
_MODEL: Final = select(
    projects.c.name.label("project"),
    registered_models.c.name,
    registered_models.c.description,
    registered_models.c.created_by,
    registered_models.c.created_at,
).select_from(registered_models.join(projects, projects.c.id == registered_models.c.project_id))
_VERSION: Final = select(
    registered_models.c.name.label("model"),
    *(c for c in model_versions.c if c.name != "model_id"),
).select_from(
    model_versions.join(registered_models, registered_models.c.id == model_versions.c.model_id)
)


def check_model_name(name: str, what: str = "model") -> str:
    """Return `name` if it can name a model or an endpoint (a directory name).

    Raises:
        InvalidParameterError: It cannot.
    """
    problem = name_problem(name)
    if problem is not None or len(name) > 255:
        rule = problem or "at most 255 characters"
        raise InvalidParameterError(f"A {what} name must be {rule}. Got {name!r} instead.")
    return name


class ModelRegistry:
    """Registered models and versions in the platform's database.

    Args:
        database: The platform's database.
        store_of: The URL of a project's own store (its runs and artifacts), by project;
            the server's spaces decide it (one store per project).

    Example:
        >>> registry = ModelRegistry(database, lambda project: f"sqlite:///{project}.db")
        >>> registry.create_model("taxi", "fares", actor=Actor("ana"))
        >>> registry.register_version("taxi", "fares", run_id="2026-01-05T12-03-ab12",
        ...                           actor=Actor("ana")).version
        1
    """

    def __init__(self, database: Database, store_of: Callable[[str], str]) -> None:
        self._database = database
        self._store_of = store_of

    @property
    def database(self) -> Database:
        """The platform's database the registry is in."""
        return self._database

    def create_model(
        self, project: str, name: str, *, actor: Actor, description: str = ""
    ) -> RegisteredModel:
        """Register a model name in `project`.

        Raises:
            InvalidParameterError: The name or description is not allowed.
            NotFoundError: The project does not exist.
            AlreadyExistsError: The project has a model of this name.
        """
        check_model_name(name)
        if len(description) > _MAX_DESCRIPTION_CHARS:
            raise InvalidParameterError(
                f"A model's description must be at most {_MAX_DESCRIPTION_CHARS} characters. "
                f"Got {len(description)}."
            )
        now = datetime.now(UTC)
        with taken_once("model", name), self._database.write() as conn:
            project_id = project_id_of(conn, project)
            taken = select(registered_models.c.id).where(
                registered_models.c.project_id == project_id, registered_models.c.name == name
            )
            if conn.scalar(taken) is not None:
                raise AlreadyExistsError(f"Project {project!r} has a model named {name!r} already.")
            conn.execute(
                insert(registered_models).values(
                    project_id=project_id,
                    name=name,
                    description=description,
                    created_by=actor.name,
                    created_at=now,
                )
            )
            append(conn, actor, "model.create", project=project, target=name)
        return RegisteredModel(project, name, description, actor.name, now)

    def list_models(self, project: str) -> list[RegisteredModel]:
        """Return the project's models, by name."""
        query = _MODEL.where(projects.c.name == project).order_by(registered_models.c.name)
        with self._database.read() as conn:
            return [RegisteredModel(**row._mapping) for row in conn.execute(query)]

    def get_model(self, project: str, name: str) -> RegisteredModel:
        """Return the model `name` of `project`.

        Raises:
            NotFoundError: There is none.
        """
        query = _MODEL.where(projects.c.name == project, registered_models.c.name == name)
        with self._database.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise _no_model(project, name)
        return RegisteredModel(**row._mapping)

    def list_versions(self, project: str, name: str) -> list[ModelVersion]:
        """Return the versions of a model, newest first.

        Raises:
            NotFoundError: There is no such model.
        """
        with self._database.read() as conn:
            model_id = model_id_of(conn, project, name)
            query = _VERSION.where(model_versions.c.model_id == model_id)
            rows = conn.execute(query.order_by(model_versions.c.version.desc()))
            return [ModelVersion.from_row(row._mapping) for row in rows]

    def get_version(self, project: str, name: str, version: int) -> ModelVersion:
        """Return one version of a model.

        Raises:
            NotFoundError: There is no such model or version.
        """
        with self._database.read() as conn:
            model_id = model_id_of(conn, project, name)
            query = _VERSION.where(
                model_versions.c.model_id == model_id, model_versions.c.version == version
            )
            row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(
                f"Model {name!r} of project {project!r} has no version {version}; "
                f"register one with POST .../models/{name}/versions."
            )
        return ModelVersion.from_row(row._mapping)

    def register_version(
        self,
        project: str,
        name: str,
        *,
        actor: Actor,
        artifact_id: int | None = None,
        run_id: str | None = None,
    ) -> tuple[ModelVersion, bool]:
        """Register a pushed model of the project's store as the model's next version.

        Args:
            project: The project.
            name: The registered model.
            actor: Who registers it.
            artifact_id: The `PushedModel` artifact's id in the project's store, or
            run_id: a run of the project whose newest push is registered.

        Returns:
            The version, and whether it is new (False: the push was registered already).

        Raises:
            InvalidParameterError: Neither or both of `artifact_id` and `run_id`, or the
                artifact is not a pushed model.
            NotFoundError: No such model, artifact or run, or the run pushed nothing.
        """
        self.get_model(project, name)  # a miss before opening the project's store
        from shipyard.store import open_store

        store = open_store(self._store_of(project))
        try:
            push = find_push(store, artifact_id=artifact_id, run_id=run_id)
        finally:
            store.close()
        now = datetime.now(UTC)

        def write() -> tuple[ModelVersion, bool]:  # again if a concurrent one took the number
            with self._database.write() as conn:
                model_id = model_id_of(conn, project, name)
                same = _VERSION.where(
                    model_versions.c.model_id == model_id,
                    model_versions.c.artifact_id == push.artifact_id,
                )
                if (row := conn.execute(same).first()) is not None:
                    return ModelVersion.from_row(row._mapping), False
                newest = select(func.max(model_versions.c.version)).where(
                    model_versions.c.model_id == model_id
                )
                number = (conn.scalar(newest) or 0) + 1
                version = ModelVersion(name, number, push, actor.name, now)
                conn.execute(insert(model_versions).values(model_id=model_id, **version.columns()))
                append(
                    conn,
                    actor,
                    "model.register",
                    project=project,
                    target=f"{name}/{version.version}",
                    detail={"artifact_id": push.artifact_id, "run_id": push.run_id},
                )
            return version, True

        return retry_lost_races(write)


def project_id_of(conn: Connection, project: str) -> int:
    """Return the id of `project`.

    Raises:
        NotFoundError: There is no such project.
    """
    found = conn.scalar(select(projects.c.id).where(projects.c.name == project))
    if found is None:
        raise NotFoundError(f"There is no project {project!r}.")
    return int(found)


def model_id_of(conn: Connection, project: str, name: str) -> int:
    """Return the id of the model `name` of `project`.

    Raises:
        NotFoundError: There is no such model.
    """
    query = (
        select(registered_models.c.id)
        .join(projects, projects.c.id == registered_models.c.project_id)
        .where(projects.c.name == project, registered_models.c.name == name)
    )
    found = conn.scalar(query)
    if found is None:
        raise _no_model(project, name)
    return int(found)


def _no_model(project: str, name: str) -> NotFoundError:
    return NotFoundError(
        f"Project {project!r} has no model {name!r}; register it with "
        f"POST /api/projects/{project}/models."
    )
