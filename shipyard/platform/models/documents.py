"""The JSON of registered models, versions and endpoints: the API's answers and the CLI's
`--json`, built here only."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.platform.models.records import Endpoint, ModelVersion, RegisteredModel
    from shipyard.platform.models.status import EndpointStatus, ServedVersion

__all__ = [
    "endpoint_document",
    "model_document",
    "status_document",
    "version_document",
]


def model_document(
    model: RegisteredModel, versions: list[ModelVersion] | None = None
) -> dict[str, Any]:
    """A registered model, with its versions (newest first) when given."""
    document: dict[str, Any] = {
        "project": model.project,
        "name": model.name,
        "description": model.description,
        "created_by": model.created_by,
        "created_at": model.created_at.isoformat(),
    }
    if versions is not None:
        document["versions"] = [version_document(v) for v in versions]
    return document


def version_document(version: ModelVersion) -> dict[str, Any]:
    """A registered version and the pushed model it is."""
    return {
        "model": version.model,
        "version": version.version,
        **dataclasses.asdict(version.push),
        "registered_by": version.registered_by,
        "registered_at": version.registered_at.isoformat(),
    }


def endpoint_document(endpoint: Endpoint) -> dict[str, Any]:
    """An endpoint: what it should serve, and its server's process."""
    return {
        "project": endpoint.project,
        "name": endpoint.name,
        "model": endpoint.model,
        "traffic": {
            "stable": endpoint.stable,
            "canary": endpoint.canary,
            "canary_percent": endpoint.canary_percent,
        },
        "state": endpoint.state,
        "url": endpoint.url,
        "pid": endpoint.pid,
        "restarts": endpoint.restarts,
        "message": endpoint.message,
        "created_by": endpoint.created_by,
        "created_at": endpoint.created_at.isoformat(),
        "updated_at": endpoint.updated_at.isoformat(),
    }


def status_document(status: EndpointStatus) -> dict[str, Any]:
    """An endpoint with what its server serves now (`serving`) and why not (`error`)."""
    return {
        **endpoint_document(status.endpoint),
        "serving": [_served(v) for v in status.versions],
        "error": status.error,
    }


def _served(version: ServedVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "state": version.state,
        "labels": list(version.labels),
        **version.figures.to_json(),
        "requests_per_s": _rounded(version.requests_per_s),
        "errors_per_s": _rounded(version.errors_per_s),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
