"""The platform server's API of users, tokens, projects, members and the audit log.

`auth_routes` returns the routes for the server to mount behind `AuthMiddleware`:

    POST   /api/login                            name + password -> a token for 8 hours
    POST   /api/logout                           revoke the request's token, clear the cookie
    GET    /api/tokens[?user=NAME]               one's tokens (an administrator: anyone's)
    POST   /api/tokens                           make a token: name, expires (30d | never), user
    DELETE /api/tokens/{token_id}                revoke one's token (an administrator: any)
    GET    /api/users, POST /api/users           the users; add one (administrators)
    GET    /api/projects, POST /api/projects     the projects one may read; add one (admins)
    GET    /api/projects/{project}/members       who has which role (readers of the project)
    PUT    /api/projects/{project}/members/{user}    grant a role (project admins)
    DELETE /api/projects/{project}/members/{user}    take it away (project admins)
    GET    /api/audit?project=&since=&after=&format=
                                                 the audit log: json, jsonl or csv, in pages
                                                 of 100,000 entries (`next_after`, or the
                                                 `X-Next-After` header, names the next page)

"Administrators" are server administrators (`Principal.superuser`); a project's admins are
the users with the admin role in it. A token that belongs to another user is a 404 to whoever
may not see it, as is a project one may not read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from starlette.responses import Response
from starlette.routing import Route

from shipyard.platform.access import Action, Forbidden, Hidden, Role
from shipyard.platform.auth.denials import actor_of
from shipyard.platform.auth.documents import (
    AUDIT_FORMATS,
    MEDIA_TYPES,
    audit_event_document,
    export_audit,
    grant_document,
    new_token_document,
    project_document,
    token_document,
    user_document,
)
from shipyard.platform.auth.endpoints import answer, endpoint, field
from shipyard.platform.auth.lifetimes import parse_lifetime, parse_since
from shipyard.platform.auth.login import login_route, logout_route
from shipyard.platform.auth.middleware import principal_of
from shipyard.platform.auth.throttle import LoginThrottle
from shipyard.ui.problems import BadParameter

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from shipyard.platform.access import Principal
    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.auth.endpoints import Body

__all__ = ["DEFAULT_EXPIRY", "auth_routes"]

DEFAULT_EXPIRY: Final = "90d"
MAX_AUDIT_EVENTS: Final = 100_000
NEXT_AFTER_HEADER: Final = "X-Next-After"


def auth_routes(
    accounts: Accounts, audit: AuditLog, *, throttle: LoginThrottle | None = None
) -> list[BaseRoute]:
    """Return the routes of the API above (see the module's docstring).

    Args:
        accounts: Users, tokens, projects and grants.
        audit: The audit log: changes, refusals, and the export's source.
        throttle: Counts failed logins (default: 5 a minute per user and per address, in the
            accounts' database).

    Example:
        >>> app = Starlette(routes=[*auth_routes(accounts, audit), *job_routes(...)],
        ...     middleware=[Middleware(AuthMiddleware, accounts=accounts, audit=audit)])
    """
    api = _AuthApi(accounts, audit)
    handlers = {
        ("/api/tokens", "GET"): api.list_tokens,
        ("/api/tokens", "POST"): api.create_token,
        ("/api/tokens/{token_id}", "DELETE"): api.revoke_token,
        ("/api/users", "GET"): api.list_users,
        ("/api/users", "POST"): api.add_user,
        ("/api/projects", "GET"): api.list_projects,
        ("/api/projects", "POST"): api.add_project,
        ("/api/projects/{project}/members", "GET"): api.list_members,
        ("/api/projects/{project}/members/{user}", "PUT"): api.grant,
        ("/api/projects/{project}/members/{user}", "DELETE"): api.revoke,
        ("/api/audit", "GET"): api.export_audit,
    }
    routes: list[BaseRoute] = [
        login_route(accounts, audit, throttle or LoginThrottle(accounts.database)),
        logout_route(accounts, audit),
    ]
    for (path, method), handler in handlers.items():
        routes.append(Route(path, endpoint(handler, audit), methods=[method]))
    return routes


def _require_superuser(principal: Principal, what: str) -> None:
    if not principal.superuser:
        raise Forbidden(f"Only a server administrator may {what}; {principal.name!r} is not one.")


class _AuthApi:
    """The handlers, over one `Accounts` and `AuditLog`."""

    def __init__(self, accounts: Accounts, audit: AuditLog) -> None:
        self.accounts = accounts
        self.audit = audit

    # Tokens -------------------------------------------------------------------------------
    def list_tokens(self, request: Request, body: Body) -> Response:
        principal = principal_of(request)
        user = request.query_params.get("user", principal.name)
        if user != principal.name:
            _require_superuser(principal, "list another user's tokens")
        now = datetime.now(UTC)
        tokens = self.accounts.list_tokens(user)
        return answer({"tokens": [token_document(token, now) for token in tokens]})

    def create_token(self, request: Request, body: Body) -> Response:
        principal = principal_of(request)
        user = field(body, "user", str) or principal.name
        if user != principal.name:
            _require_superuser(principal, "make a token for another user")
        lifetime = field(body, "expires", str) or DEFAULT_EXPIRY
        made = self.accounts.create_token(
            user,
            actor=actor_of(request),
            name=field(body, "name", str) or "token",
            expires_in=parse_lifetime(lifetime, name="expires"),
        )
        return answer(new_token_document(made), 201)

    def revoke_token(self, request: Request, body: Body) -> Response:
        principal = principal_of(request)
        token_id = request.path_params["token_id"]
        token = self.accounts.get_token(token_id)
        if token.user != principal.name and not principal.superuser:
            raise Hidden(f"No token with id {token_id!r}.")
        revoked = self.accounts.revoke_token(token_id, actor=actor_of(request))
        return answer(token_document(revoked, datetime.now(UTC)))

    # Users --------------------------------------------------------------------------------
    def list_users(self, request: Request, body: Body) -> Response:
        _require_superuser(principal_of(request), "list the users")
        return answer({"users": [user_document(user) for user in self.accounts.list_users()]})

    def add_user(self, request: Request, body: Body) -> Response:
        _require_superuser(principal_of(request), "add users")
        user = self.accounts.add_user(
            field(body, "name", str, required=True),
            actor=actor_of(request),
            password=field(body, "password", str),
            superuser=field(body, "superuser", bool) or False,
            email=field(body, "email", str),
        )
        return answer(user_document(user), 201)

    # Projects and members -----------------------------------------------------------------
    def list_projects(self, request: Request, body: Body) -> Response:
        principal = principal_of(request)
        documents = [
            project_document(project, role=principal.roles.get(project.name))
            for project in self.accounts.list_projects()
            if principal.may(Action.READ, project.name)
        ]
        return answer({"projects": documents})

    def add_project(self, request: Request, body: Body) -> Response:
        _require_superuser(principal_of(request), "add projects")
        name = field(body, "name", str, required=True)
        project = self.accounts.add_project(name, actor=actor_of(request))
        return answer(project_document(project), 201)

    def list_members(self, request: Request, body: Body) -> Response:
        project = request.path_params["project"]
        principal_of(request).require(Action.READ, project)
        self.accounts.get_project(project)
        grants = self.accounts.list_grants(project=project)
        return answer({"members": [grant_document(grant) for grant in grants]})

    def grant(self, request: Request, body: Body) -> Response:
        project, user = request.path_params["project"], request.path_params["user"]
        principal_of(request).require(Action.ADMINISTER, project)
        role_name = field(body, "role", str, required=True)
        try:
            role = Role(role_name)
        except ValueError:
            allowed = ", ".join(role.value for role in Role)
            raise BadParameter("role", f"must be one of {allowed}. Got {role_name!r}.") from None
        granted = self.accounts.grant(user, project, role, actor=actor_of(request))
        return answer(grant_document(granted))

    def revoke(self, request: Request, body: Body) -> Response:
        project, user = request.path_params["project"], request.path_params["user"]
        principal_of(request).require(Action.ADMINISTER, project)
        had = self.accounts.revoke(user, project, actor=actor_of(request))
        return answer({"project": project, "user": user, "had_role": had})

    # Audit --------------------------------------------------------------------------------
    def export_audit(self, request: Request, body: Body) -> Response:
        principal = principal_of(request)
        query = request.query_params
        project = query.get("project")
        if project is None:
            _require_superuser(principal, "read the whole audit log (give ?project=)")
        else:
            principal.require(Action.ADMINISTER, project)
        since = None if "since" not in query else parse_since(query["since"], name="since")
        audit_format = query.get("format", "json")
        if audit_format not in ("json", *AUDIT_FORMATS):
            raise BadParameter("format", f"must be json, jsonl or csv. Got {audit_format!r}.")
        after = _after(query.get("after"))
        events = self.audit.events(
            project=project, since=since, after=after, limit=MAX_AUDIT_EVENTS + 1
        )
        # A page of MAX_AUDIT_EVENTS at most; the next one starts after the last id sent.
        more = len(events) > MAX_AUDIT_EVENTS
        events = events[:MAX_AUDIT_EVENTS]
        next_after = events[-1].id if more else None
        if audit_format == "json":
            documents = [audit_event_document(event) for event in events]
            return answer({"events": documents, "next_after": next_after})
        headers = {} if next_after is None else {NEXT_AFTER_HEADER: str(next_after)}
        return Response(
            export_audit(events, audit_format),  # type: ignore[arg-type]
            media_type=MEDIA_TYPES[audit_format],
            headers=headers,
        )


def _after(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise BadParameter("after", f"must be an audit entry's id (a number). Got {value!r}.")
    return int(value)
