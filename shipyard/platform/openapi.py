"""The OpenAPI 3.1 document of the platform server: the auth and jobs APIs, and each project's
UI read API under `/projects/{project}` when the server serves the projects' UIs."""

from __future__ import annotations

from typing import Any

from shipyard.platform.auth.openapi import auth_paths
from shipyard.platform.jobs.openapi import job_paths
from shipyard.platform.project_uis import PROJECTS_PREFIX
from shipyard.ui.openapi import openapi_document

__all__ = ["server_openapi"]


def server_openapi(*, ui: bool, oidc: bool = False, models: bool = False) -> dict[str, Any]:
    """The server's OpenAPI document: every path but the logins needs a bearer token.

    Args:
        ui: Whether the server serves the projects' UIs, and so their read API
            (`/projects/{project}/api/runs`...).
        oidc: Whether it offers OIDC login.
        models: Whether it serves the models and endpoints API.
    """
    document = openapi_document()
    document["paths"] = _under_projects(document["paths"]) if ui else {}
    document["info"] = {
        **document["info"],
        "title": "Shipyard platform server API",
        "description": "Users, tokens, projects, the audit log, jobs, packages, models and "
        "endpoints (and each project's web UI read API). Every request but a login needs "
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


_PROJECT = {
    "name": "project",
    "in": "path",
    "required": True,
    "description": "The project whose runs and artifacts are read.",
    "schema": {"type": "string"},
}


def _under_projects(paths: dict[str, Any]) -> dict[str, Any]:
    """The UI's paths as the server serves them: under `/projects/{project}`."""
    moved: dict[str, Any] = {}
    for path, operations in paths.items():
        moved[f"{PROJECTS_PREFIX}/{{project}}{path}"] = {
            method: {**operation, "parameters": [_PROJECT, *operation.get("parameters", [])]}
            for method, operation in operations.items()
        }
    return moved
