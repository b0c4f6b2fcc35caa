"""What the platform knows of users, tokens, projects, grants and the audit log, as values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from datetime import datetime

    from shipyard.platform.access import Role
    from shipyard.store.records import JSON

__all__ = [
    "Actor",
    "ApiToken",
    "AuditEvent",
    "Grant",
    "NewToken",
    "OidcIdentity",
    "Outcome",
    "Project",
    "User",
]

Outcome = Literal["ok", "denied", "failed"]
TokenKind = Literal["personal", "login"]


@dataclass(frozen=True)
class User:
    """A user of the platform server.

    Attributes:
        name: The name the user logs in with and grants name.
        superuser: Whether the user administers the server (every project, users, tokens).
        disabled: A disabled user's tokens and password are refused.
        has_password: Whether the user may log in with a password (OIDC users may not).
        email: The address the identity provider gave, if any.
        created_at: When the user was added.
    """

    name: str
    superuser: bool
    disabled: bool
    has_password: bool
    email: str | None
    created_at: datetime


@dataclass(frozen=True)
class ApiToken:
    """A token as the server keeps it: everything but the token, of which it has a hash.

    Attributes:
        id: The token's public id, which lists and revocations name.
        user: The user the token authenticates.
        name: What the user called it (`laptop`, `ci`); `login` for a login's token.
        kind: `personal` (made by `shipyard tokens create` or `POST /api/tokens`) or `login`.
        created_at: When it was made.
        expires_at: When it stops working (None: never).
        last_used_at: When a request last came with it.
        revoked_at: When it was revoked (None: it was not).
    """

    id: str
    user: str
    name: str
    kind: TokenKind
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> Literal["active", "expired", "revoked"]:
        """Whether the token works at `now`, and if not, why."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is shown once, the server keeps only its hash."""

    secret: str
    token: ApiToken


@dataclass(frozen=True)
class Project:
    """A project: what isolates a team's runs, artifacts, models and jobs from another's."""

    name: str
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True)
class Grant:
    """A user's role in a project."""

    project: str
    user: str
    role: Role
    granted_at: datetime
    granted_by: str | None


@dataclass(frozen=True)
class Actor:
    """Who does a change, for the audit log.

    Attributes:
        name: The user's name; `host:LOGIN` for the CLI on the server host; None when the
            request carried no valid credentials.
        request_id: The HTTP request's id (`X-Request-Id`), if it came over HTTP.
        client: The client's address, if it came over HTTP.
    """

    name: str | None
    request_id: str | None = None
    client: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the audit log: who did what, when, where, and how it ended.

    Attributes:
        id: The entry's number, increasing.
        at: When it happened (UTC).
        actor: Who (see `Actor.name`).
        action: What, as a verb phrase: `user.add`, `grant`, `token.create`, `GET /api/users`.
        outcome: `ok`, `denied` (not allowed) or `failed` (allowed, but it did not happen).
        project: The project it happened in, if any.
        target: What it acted on: a user's name, a token's id, a job's id.
        request_id: The HTTP request's id.
        client: The client's address.
        detail: Anything else worth keeping (the role granted, why it was denied).
    """

    id: int
    at: datetime
    actor: str | None
    action: str
    outcome: Outcome
    project: str | None
    target: str | None
    request_id: str | None
    client: str | None
    detail: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class OidcIdentity:
    """Who an identity provider says logged in: the claims of a verified ID token.

    Attributes:
        issuer: The provider (`iss`).
        subject: Its id for the user (`sub`), unique and never reassigned by the issuer.
        email: The user's address (`email`), if the provider gave one.
        email_verified: Whether the provider verified that address (`email_verified`).
        preferred_username: The name the user goes by there, if given.
    """

    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    preferred_username: str | None = None

    def names(self) -> list[str]:
        """The names to try for a new user, best first."""
        given = [self.preferred_username, self.email, f"oidc-{self.subject}"]
        return [name for name in given if name]
