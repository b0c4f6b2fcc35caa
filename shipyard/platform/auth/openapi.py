"""The OpenAPI 3.1 paths of the auth API (`shipyard.platform.openapi` composes the document).

Every operation needs the bearer token of the document's global `security`, but the logins,
which say `security: []`. The schemas are the documents of `documents`.
"""

from __future__ import annotations

from typing import Any, Final

from shipyard.platform.access import Role
from shipyard.platform.auth.documents import AUDIT_COLUMNS, AUDIT_FORMATS
from shipyard.platform.auth.lifetimes import DURATION_PATTERN
from shipyard.platform.auth.names import PROJECT_PATTERN, USER_PATTERN

__all__ = ["auth_paths"]

_PROBLEM: Final = {"$ref": "#/components/responses/Problem"}
_REFUSED: Final = {"400": _PROBLEM, "401": _PROBLEM, "403": _PROBLEM, "404": _PROBLEM}
_TIME: Final = {"type": ["string", "null"], "format": "date-time"}
_TOKEN: Final = {
    "type": "object",
    "required": ["id", "user", "name", "kind", "state", "created_at", "expires_at"],
    "properties": {
        "id": {"type": "string"},
        "user": {"type": "string"},
        "name": {"type": "string"},
        "kind": {"enum": ["personal", "login"]},
        "state": {"enum": ["active", "expired", "revoked"]},
        "created_at": _TIME,
        "expires_at": _TIME,
        "last_used_at": _TIME,
        "revoked_at": _TIME,
    },
}
_NEW_TOKEN: Final = {
    **_TOKEN,
    "required": [*_TOKEN["required"], "token"],
    "properties": {**_TOKEN["properties"], "token": {"type": "string"}},  # type: ignore[dict-item]
}
_USER: Final = {
    "type": "object",
    "required": ["name", "superuser", "disabled", "has_password", "email", "created_at"],
}
_PROJECT: Final = {"type": "object", "required": ["name", "created_at", "created_by", "role"]}
_GRANT: Final = {
    "type": "object",
    "required": ["project", "user", "role", "granted_at", "granted_by"],
}
_ROLE: Final = {"enum": [role.value for role in Role]}
_EXPIRES: Final = {"type": "string", "pattern": f"^never$|{DURATION_PATTERN}"}


def _ok(schema: dict[str, Any], text: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": text, "content": {media: {"schema": schema}}}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _path(name: str, pattern: str, text: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": pattern},
        "description": text,
    }


def _operation(summary: str, operation_id: str, **parts: Any) -> dict[str, Any]:
    return {"summary": summary, "operationId": operation_id, **parts}


_PROJECT_PATH: Final = _path("project", PROJECT_PATTERN, "A project's name.")
_USER_PATH: Final = _path("user", USER_PATTERN, "A user's name.")


def auth_paths(*, oidc: bool = False) -> dict[str, Any]:
    """The paths of the auth API, and of OIDC login if `oidc`."""
    paths: dict[str, Any] = {
        "/api/login": {
            "post": _operation(
                "Trade a user's name and password for a token that works for 8 hours (with "
                "session: also set as the browser's read-only session cookie, which needs the "
                "body sent as application/json).",
                "login",
                security=[],
                requestBody=_body(
                    {
                        "name": {"type": "string"},
                        "password": {"type": "string"},
                        "session": {"type": "boolean"},
                    },
                    ["name", "password"],
                ),
                responses={
                    "201": _ok(_NEW_TOKEN, "The token, shown this once."),
                    "400": _PROBLEM,
                    "401": _PROBLEM,
                    "413": _PROBLEM,
                    "415": _PROBLEM,
                    "429": _PROBLEM,
                },
            )
        },
        "/api/logout": {
            "post": _operation(
                "Revoke the token the request came with and clear the session cookie.",
                "logout",
                responses={
                    "200": _ok({"type": "object", "required": ["user", "revoked"]}, "Done."),
                    **_REFUSED,
                },
            )
        },
        "/api/tokens": {
            "get": _operation(
                "The caller's tokens (a server administrator: anyone's), never the secrets.",
                "listTokens",
                parameters=[{"name": "user", "in": "query", "schema": {"type": "string"}}],
                responses={
                    "200": _ok({"type": "object", "required": ["tokens"]}, "The tokens."),
                    **_REFUSED,
                },
            ),
            "post": _operation(
                "Make a token (for another user: a server administrator).",
                "createToken",
                requestBody=_body(
                    {
                        "name": {"type": "string", "minLength": 1, "maxLength": 255},
                        "expires": _EXPIRES,
                        "user": {"type": "string"},
                    },
                    [],
                ),
                responses={"201": _ok(_NEW_TOKEN, "The token, shown this once."), **_REFUSED},
            ),
        },
        "/api/tokens/{token_id}": {
            "delete": _operation(
                "Revoke a token: one's own, or any (a server administrator).",
                "revokeToken",
                parameters=[_path("token_id", "^[0-9a-f]{12}$", "A token's id.")],
                responses={"200": _ok(_TOKEN, "The revoked token."), **_REFUSED},
            )
        },
        "/api/users": {
            "get": _operation(
                "Every user (server administrators).",
                "listUsers",
                responses={
                    "200": _ok({"type": "object", "required": ["users"]}, "Users."),
                    **_REFUSED,
                },
            ),
            "post": _operation(
                "Add a user, with no role in any project (server administrators).",
                "addUser",
                requestBody=_body(
                    {
                        "name": {"type": "string", "pattern": USER_PATTERN},
                        "password": {"type": "string", "minLength": 8, "maxLength": 1024},
                        "superuser": {"type": "boolean"},
                        "email": {"type": "string"},
                    },
                    ["name"],
                ),
                responses={"201": _ok(_USER, "The user."), "409": _PROBLEM, **_REFUSED},
            ),
        },
        "/api/projects": {
            "get": _operation(
                "The projects the caller may read, with its role in each.",
                "listProjects",
                responses={
                    "200": _ok({"type": "object", "required": ["projects"]}, "The projects."),
                    **_REFUSED,
                },
            ),
            "post": _operation(
                "Add a project (server administrators).",
                "addProject",
                requestBody=_body(
                    {"name": {"type": "string", "pattern": PROJECT_PATTERN}}, ["name"]
                ),
                responses={"201": _ok(_PROJECT, "The project."), "409": _PROBLEM, **_REFUSED},
            ),
        },
        "/api/projects/{project}/members": {
            "get": _operation(
                "Who has which role in the project (its readers).",
                "listMembers",
                parameters=[_PROJECT_PATH],
                responses={
                    "200": _ok({"type": "object", "required": ["members"]}, "The grants."),
                    **_REFUSED,
                },
            )
        },
        "/api/projects/{project}/members/{user}": {
            "put": _operation(
                "Give the user a role in the project, replacing its own (project admins).",
                "grantRole",
                parameters=[_PROJECT_PATH, _USER_PATH],
                requestBody=_body({"role": _ROLE}, ["role"]),
                responses={"200": _ok(_GRANT, "The grant."), **_REFUSED},
            ),
            "delete": _operation(
                "Take away the user's role in the project (project admins).",
                "revokeRole",
                parameters=[_PROJECT_PATH, _USER_PATH],
                responses={
                    "200": _ok({"type": "object", "required": ["had_role"]}, "Done."),
                    **_REFUSED,
                },
            ),
        },
        "/api/audit": {
            "get": _operation(
                "The audit log, oldest first, in pages of 100,000 entries (project admins: "
                "their project's; server administrators: all).",
                "exportAudit",
                parameters=[
                    {"name": "project", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "since",
                        "in": "query",
                        "schema": {
                            "anyOf": [
                                {"type": "string", "format": "date-time"},
                                {"type": "string", "pattern": DURATION_PATTERN},
                            ]
                        },
                        "description": "An ISO 8601 time, or a duration back from now (12h).",
                    },
                    {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"enum": ["json", *AUDIT_FORMATS]},
                    },
                ],
                responses={
                    "200": {
                        "description": f"The entries, with {', '.join(AUDIT_COLUMNS)}.",
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "application/jsonl": {"schema": {"type": "string"}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **_REFUSED,
                },
            )
        },
    }
    if oidc:
        paths["/api/oidc/login"] = {
            "get": _operation(
                "Log in with the identity provider: a redirect to it (code flow, PKCE).",
                "oidcLogin",
                security=[],
                responses={"302": {"description": "To the identity provider."}, "502": _PROBLEM},
            )
        }
        paths["/api/oidc/callback"] = {
            "get": _operation(
                "Where the identity provider sends the browser back: a token for 8 hours.",
                "oidcCallback",
                security=[],
                parameters=[
                    {"name": "code", "in": "query", "schema": {"type": "string"}},
                    {"name": "state", "in": "query", "schema": {"type": "string"}},
                ],
                responses={
                    "201": _ok(_NEW_TOKEN, "The token, shown this once."),
                    "400": _PROBLEM,
                    "401": _PROBLEM,
                    "502": _PROBLEM,
                },
            )
        }
    return paths
