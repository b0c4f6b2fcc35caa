"""The JSON of users, tokens, projects, grants and audit entries, and the audit log's exports.

The one owner of these shapes: the server's answers (`routes`, `login`) and the CLI's `--json`
build them here, so a script reads the same fields from either. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from shipyard.platform.access import Role
    from shipyard.platform.auth.records import (
        ApiToken,
        AuditEvent,
        Grant,
        NewToken,
        Project,
        User,
    )

__all__ = [
    "AUDIT_COLUMNS",
    "AUDIT_FORMATS",
    "audit_event_document",
    "export_audit",
    "grant_document",
    "new_token_document",
    "project_document",
    "token_document",
    "user_document",
]

AuditFormat = Literal["jsonl", "csv"]
AUDIT_FORMATS: Final = ("jsonl", "csv")
AUDIT_COLUMNS: Final = (
    "id",
    "at",
    "actor",
    "action",
    "outcome",
    "project",
    "target",
    "request_id",
    "client",
    "detail",
)
MEDIA_TYPES: Final = {"jsonl": "application/jsonl", "csv": "text/csv; charset=utf-8"}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def user_document(user: User) -> dict[str, Any]:
    """A user: `name`, `superuser`, `disabled`, `has_password`, `email`, `created_at`."""
    return {
        "name": user.name,
        "superuser": user.superuser,
        "disabled": user.disabled,
        "has_password": user.has_password,
        "email": user.email,
        "created_at": _iso(user.created_at),
    }


def token_document(token: ApiToken, now: datetime) -> dict[str, Any]:
    """A token without its secret, and its `state` at `now`: active, expired or revoked."""
    return {
        "id": token.id,
        "user": token.user,
        "name": token.name,
        "kind": token.kind,
        "state": token.state(now),
        "created_at": _iso(token.created_at),
        "expires_at": _iso(token.expires_at),
        "last_used_at": _iso(token.last_used_at),
        "revoked_at": _iso(token.revoked_at),
    }


def new_token_document(made: NewToken) -> dict[str, Any]:
    """A token just made: its document and, this once, the `token` itself."""
    return {**token_document(made.token, made.token.created_at), "token": made.secret}


def project_document(project: Project, *, role: Role | None = None) -> dict[str, Any]:
    """A project, with the caller's `role` in it when given (None for a server admin's view)."""
    return {
        "name": project.name,
        "created_at": _iso(project.created_at),
        "created_by": project.created_by,
        "role": None if role is None else role.value,
    }


def grant_document(grant: Grant) -> dict[str, Any]:
    """A user's role in a project: `project`, `user`, `role`, `granted_at`, `granted_by`."""
    return {
        "project": grant.project,
        "user": grant.user,
        "role": grant.role.value,
        "granted_at": _iso(grant.granted_at),
        "granted_by": grant.granted_by,
    }


def audit_event_document(event: AuditEvent) -> dict[str, Any]:
    """An audit entry, with the fields of `AUDIT_COLUMNS`."""
    return {
        "id": event.id,
        "at": _iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "outcome": event.outcome,
        "project": event.project,
        "target": event.target,
        "request_id": event.request_id,
        "client": event.client,
        "detail": event.detail,
    }


def export_audit(events: Iterable[AuditEvent], audit_format: AuditFormat) -> str:
    """The entries as JSON lines (one document a line) or CSV (a header, `detail` as JSON)."""
    documents = [audit_event_document(event) for event in events]
    if audit_format == "jsonl":
        return "".join(json.dumps(document) + "\n" for document in documents)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for document in documents:
        writer.writerow({**document, "detail": json.dumps(document["detail"])})
    return out.getvalue()
