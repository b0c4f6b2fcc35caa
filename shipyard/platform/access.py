"""Who may do what in which project: roles, actions and the authenticated principal.

Each user holds at most one role per project; the roles are ordered, each allowing what the
one below it allows and more. Anything not granted is denied. A server administrator
(`Principal.superuser`) may do everything in every project.

A request names a resource of a project the principal may not read: the answer is a 404, as
for a resource that does not exist (ids of other projects are not disclosed). A principal who
may read the project but not act on it gets a 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping


class Role(StrEnum):
    """A user's role in a project, from the least to the most allowed."""

    VIEWER = "viewer"
    RUNNER = "runner"
    EDITOR = "editor"
    ADMIN = "admin"


class Action(StrEnum):
    """What a request does in a project."""

    READ = "read"
    """See the project's runs, artifacts, models, jobs and their logs."""
    SUBMIT = "submit"
    """Submit jobs, and cancel or retry one's own."""
    MANAGE_JOBS = "manage_jobs"
    """Cancel or retry anyone's jobs."""
    EDIT = "edit"
    """Register models and deploy, relabel or undeploy versions."""
    ADMINISTER = "administer"
    """Grant and revoke roles in the project and read its audit log."""


ROLE_ORDER: Final = (Role.VIEWER, Role.RUNNER, Role.EDITOR, Role.ADMIN)
ALLOWED: Final[Mapping[Role, frozenset[Action]]] = {
    Role.VIEWER: frozenset({Action.READ}),
    Role.RUNNER: frozenset({Action.READ, Action.SUBMIT}),
    Role.EDITOR: frozenset({Action.READ, Action.SUBMIT, Action.MANAGE_JOBS, Action.EDIT}),
    Role.ADMIN: frozenset(Action),
}


class Unauthenticated(Exception):
    """The request carries no valid credentials: answered 401 with `WWW-Authenticate: Bearer`."""


class Forbidden(Exception):
    """The principal may read the project but not do this in it: answered 403."""


class Hidden(Exception):
    """The principal may not read the project the resource is in: answered 404, like a miss."""


@dataclass(frozen=True)
class Principal:
    """An authenticated user, with the roles it held when the request came in.

    Args:
        name: The user's name.
        roles: The user's role in each project it was granted one in.
        superuser: Whether the user administers the server (every project, users, tokens).
        token_id: The id of the API token the request came with (None for a session login).
    """

    name: str
    roles: Mapping[str, Role] = field(default_factory=dict)
    superuser: bool = False
    token_id: str | None = None

    def may(self, action: Action, project: str) -> bool:
        """Whether the principal may do `action` in `project`."""
        if self.superuser:
            return True
        role = self.roles.get(project)
        return role is not None and action in ALLOWED[role]

    def require(self, action: Action, project: str) -> None:
        """Raise `Hidden` if the principal may not read `project`, `Forbidden` if not `action`."""
        if not self.may(Action.READ, project):
            raise Hidden(f"no such resource in project '{project}'")
        if not self.may(action, project):
            role = self.roles.get(project)
            raise Forbidden(
                f"user '{self.name}' is {role} in project '{project}', which may not {action}"
            )

    def readable_projects(self, all_projects: list[str]) -> list[str]:
        """The projects of `all_projects` whose resources the principal may see."""
        return [p for p in all_projects if self.may(Action.READ, p)]
