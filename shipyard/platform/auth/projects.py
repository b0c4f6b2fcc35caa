"""The project half of `Accounts`: projects, and grants of one role per user per project."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy import delete, insert, select, update

from shipyard.errors import AlreadyExistsError, NotFoundError
from shipyard.platform.access import Role
from shipyard.platform.auth.audit import append
from shipyard.platform.auth.names import check_project_name, taken_once
from shipyard.platform.auth.records import Grant, Project
from shipyard.platform.database import retry_lost_races
from shipyard.store.sql.tables import grants, projects, users

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from shipyard.platform.auth.records import Actor
    from shipyard.platform.database import Database

__all__ = ["ProjectQueries"]

_PROJECT: Final = select(projects.c.name, projects.c.created_at, projects.c.created_by)
_GRANT: Final = select(
    projects.c.name.label("project"),
    users.c.name.label("user"),
    grants.c.role,
    grants.c.granted_at,
    grants.c.granted_by,
).select_from(
    grants.join(projects, projects.c.id == grants.c.project_id).join(
        users, users.c.id == grants.c.user_id
    )
)


class ProjectQueries:
    """Projects and grants: the `Accounts` methods about them."""

    _database: Database

    def add_project(self, name: str, *, actor: Actor) -> Project:
        """Add a project, in which nobody has a role yet (server administrators may act).

        Raises:
            InvalidParameterError: The name is not allowed.
            AlreadyExistsError: A project has this name already.
        """
        check_project_name(name)
        now = datetime.now(UTC)
        with taken_once("project", name), self._database.write() as conn:
            if conn.scalar(select(projects.c.id).where(projects.c.name == name)) is not None:
                raise AlreadyExistsError(f"A project named {name!r} exists already.")
            conn.execute(insert(projects).values(name=name, created_at=now, created_by=actor.name))
            append(conn, actor, "project.add", project=name, target=name)
        return Project(name, now, actor.name)

    def get_project(self, name: str) -> Project:
        """Return the project named `name`.

        Raises:
            NotFoundError: There is none.
        """
        with self._database.read() as conn:
            row = conn.execute(_PROJECT.where(projects.c.name == name)).first()
        if row is None:
            raise _no_project(name)
        return Project(**row._mapping)

    def list_projects(self) -> list[Project]:
        """Return every project, by name."""
        with self._database.read() as conn:
            return [Project(**row._mapping) for row in conn.execute(_PROJECT.order_by("name"))]

    def grant(self, user: str, project: str, role: Role, *, actor: Actor) -> Grant:
        """Give `user` the role `role` in `project`, replacing the role it had there.

        Raises:
            NotFoundError: There is no such user or project.
        """
        now = datetime.now(UTC)

        def write() -> None:  # again if a concurrent grant inserted the row first
            with self._database.write() as conn:
                project_id, user_id = _ids(conn, project, user)
                key = (grants.c.project_id == project_id) & (grants.c.user_id == user_id)
                values = {"role": role.value, "granted_at": now, "granted_by": actor.name}
                if conn.execute(update(grants).where(key).values(**values)).rowcount == 0:
                    conn.execute(
                        insert(grants).values(project_id=project_id, user_id=user_id, **values)
                    )
                detail = {"role": role.value}
                append(conn, actor, "grant", project=project, target=user, detail=detail)

        retry_lost_races(write)
        return Grant(project, user, role, now, actor.name)

    def revoke(self, user: str, project: str, *, actor: Actor) -> bool:
        """Take away the role of `user` in `project`; return whether it had one.

        Raises:
            NotFoundError: There is no such user or project.
        """
        with self._database.write() as conn:
            project_id, user_id = _ids(conn, project, user)
            key = (grants.c.project_id == project_id) & (grants.c.user_id == user_id)
            had = conn.execute(delete(grants).where(key)).rowcount > 0
            append(conn, actor, "revoke", project=project, target=user, detail={"had_role": had})
        return had

    def list_grants(self, *, project: str | None = None, user: str | None = None) -> list[Grant]:
        """Return the grants of a project, or of a user, or all, by project then user."""
        query = _GRANT.order_by(projects.c.name, users.c.name)
        if project is not None:
            query = query.where(projects.c.name == project)
        if user is not None:
            query = query.where(users.c.name == user)
        with self._database.read() as conn:
            return [
                Grant(row.project, row.user, Role(row.role), row.granted_at, row.granted_by)
                for row in conn.execute(query)
            ]


def _ids(conn: Connection, project: str, user: str) -> tuple[int, int]:
    project_id = conn.scalar(select(projects.c.id).where(projects.c.name == project))
    if project_id is None:
        raise _no_project(project)
    user_id = conn.scalar(select(users.c.id).where(users.c.name == user))
    if user_id is None:
        raise NotFoundError(f"No user named {user!r}.", hint="List them with: shipyard users list")
    return project_id, user_id


def _no_project(name: str) -> NotFoundError:
    return NotFoundError(
        f"No project named {name!r}.", hint="List them with: shipyard projects list"
    )
