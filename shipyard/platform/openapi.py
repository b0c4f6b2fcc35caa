"""The OpenAPI 3.1 document of the platform server: the UI's read API and the jobs API."""

from __future__ import annotations

from typing import Any

from shipyard.platform.jobs.openapi import job_paths
from shipyard.ui.openapi import openapi_document

__all__ = ["server_openapi"]


def server_openapi(*, ui: bool, models: bool = False) -> dict[str, Any]:
    """The server's OpenAPI document: every path needs a bearer token (an API token).

    Args:
        ui: Whether the server serves a project's UI, and so its read API (`/api/runs`...).
        models: Whether it serves the models and endpoints API.
    """
    document = openapi_document()
    if not ui:
        document["paths"] = {}
    document["info"] = {
        **document["info"],
        "title": "Shipyard platform server API",
        "description": "Jobs, packages and the read API of the web UI. Every request needs "
        "`Authorization: Bearer TOKEN`. Errors are RFC 9457 problem documents.",
    }
    document["paths"] = {**document["paths"], **job_paths()}
    if models:
        from shipyard.platform.models.openapi import model_paths

        document["paths"] |= model_paths()
    document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    document["security"] = [{"bearer": []}]
    return document
