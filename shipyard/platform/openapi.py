"""The OpenAPI 3.1 document of the platform server: the auth and jobs APIs, and the UI's read
API when the server serves a project's UI."""

from __future__ import annotations

from typing import Any

from shipyard.platform.auth.openapi import auth_paths
from shipyard.platform.jobs.openapi import job_paths
from shipyard.ui.openapi import openapi_document

__all__ = ["server_openapi"]


def server_openapi(*, ui: bool, oidc: bool = False, models: bool = False) -> dict[str, Any]:
    """The server's OpenAPI document: every path but the logins needs a bearer token.

    Args:
        ui: Whether the server serves a project's UI, and so its read API (`/api/runs`...).
        oidc: Whether it offers OIDC login.
        models: Whether it serves the models and endpoints API.
    """
    document = openapi_document()
    if not ui:
        document["paths"] = {}
    document["info"] = {
        **document["info"],
        "title": "Shipyard platform server API",
        "description": "Users, tokens, projects, the audit log, jobs, packages, models and "
        "endpoints (and the read API of the web UI). Every request but a login needs "
        "`Authorization: Bearer TOKEN`. Errors are RFC 9457 problem documents.",
    }
    document["paths"] = {**document["paths"], **auth_paths(oidc=oidc), **job_paths()}
    if models:
        from shipyard.platform.models.openapi import model_paths, proxy_schemas

        document["paths"] |= model_paths()
        document["components"].setdefault("schemas", {}).update(proxy_schemas())
    document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    document["security"] = [{"bearer": []}]
    return document
