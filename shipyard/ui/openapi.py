"""The OpenAPI 3.1 document of the UI's JSON API, served at `/api/openapi.json`."""

from __future__ import annotations

from typing import Any

from shipyard._version import __version__
from shipyard.runners.run_json import RUN_JSON_KEYS, SORT_PATTERN
from shipyard.ui.api import MAX_COMPARED, MAX_ID
from shipyard.ui.run_params import DEFAULT_LIMIT, MAX_LIMIT, RUN_STATES

_OBJECT: dict[str, Any] = {"type": "object"}
_STATE = "(" + "|".join(RUN_STATES) + ")"
_STATES_PATTERN = f"^$|^{_STATE}(,{_STATE})*$"  # empty: any state (as the runs page's form sends)
_PROBLEM = {"$ref": "#/components/responses/Problem"}
_EMPTY = {"const": ""}  # a form's empty field: the default
_COMPARED_PATTERN = rf"^[^,\s]+(,[^,\s]+){{1,{MAX_COMPARED - 1}}}$"  # 2 to MAX_COMPARED ids


def _parameter(name: str, where: str, schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": text,
    }


def _ok(schema: dict[str, Any], text: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": text, "content": {media: {"schema": schema}}}


_RUN_ID = _parameter("run_id", "path", {"type": "string"}, "A run id, or a unique prefix.")
_ARTIFACT_ID = _parameter(
    "artifact_id", "path", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "An artifact id."
)
_NODE = _parameter("node", "query", {"type": "string"}, "Only this node's log.")
_LOG_ENTRY = {
    "type": "object",
    "required": ["time", "level", "logger", "message"],
    "properties": {
        "time": {"type": "string", "format": "date-time"},
        "level": {"type": "string"},
        "logger": {"type": "string"},
        "message": {"type": "string"},
    },
}
_RUN_LOGS = {
    "type": "object",
    "required": ["run", "pipeline", "nodes"],
    "properties": {
        "run": {"type": "string"},
        "pipeline": {"type": "string"},
        "nodes": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["state", "entries"],
                "properties": {
                    "state": {"type": "string"},
                    "entries": {"type": "array", "items": _LOG_ENTRY},
                },
            },
        },
    },
}
_LISTED_RUN = {
    "type": "object",
    "required": [
        "id",
        "pipeline",
        "state",
        "started_at",
        "ended_at",
        "duration_s",
        "properties",
        "parameters",
        "metrics",
        "blessed",
        "models",
        "trigger",
    ],
    "properties": {
        "id": {"type": "string"},
        "pipeline": {"type": "string"},
        "state": {"enum": list(RUN_STATES)},
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "duration_s": {"type": ["number", "null"]},
        "properties": _OBJECT,
        "parameters": _OBJECT,
        "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
        "blessed": {"type": ["boolean", "null"]},
        "models": {"type": "array", "items": _OBJECT},
        "trigger": {"type": ["object", "null"]},
    },
}


_MODELS = {
    "type": "object",
    "required": ["models"],
    "properties": {
        "models": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "base_path", "canary_percent", "versions", "decisions"],
                "properties": {
                    "name": {"type": "string"},
                    "versions": {"type": "array", "items": _OBJECT},
                    "decisions": {"type": "array", "items": _OBJECT},
                    "server_error": {"type": ["string", "null"]},
                },
            },
        }
    },
}


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.1 document."""
    listing = [
        _parameter("pipeline", "query", {"type": "string"}, "Only runs of this pipeline."),
        _parameter(
            "state",
            "query",
            {"type": "string", "pattern": _STATES_PATTERN},
            f"Only runs in these states, comma-separated: {', '.join(RUN_STATES)}.",
        ),
        _parameter(
            "q",
            "query",
            {"type": "string", "maxLength": 200},
            "Only runs whose id, pipeline or parameters contain this text (any case).",
        ),
        _parameter(
            "sort",
            "query",
            {"type": "string", "default": "-started_at", "pattern": "^$|" + SORT_PATTERN},
            "started_at, duration_s or metrics.NAME; a leading '-' sorts largest first. Runs "
            "without the value come last.",
        ),
        _parameter(
            "offset",
            "query",
            {"anyOf": [{"type": "integer", "minimum": 0}, _EMPTY], "default": 0},
            "How many matching runs to skip (empty: 0, as the runs page's form sends).",
        ),
        _parameter(
            "limit",
            "query",
            {
                "anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, _EMPTY],
                "default": DEFAULT_LIMIT,
            },
            f"How many runs to return (empty: {DEFAULT_LIMIT}).",
        ),
    ]
    run = {
        "type": "object",
        "required": list(RUN_JSON_KEYS),
        "properties": {
            key: _OBJECT if key in ("parameters", "properties", "nodes", "outcome") else {}
            for key in RUN_JSON_KEYS
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shipyard UI API",
            "version": __version__,
            "description": "What the CLI prints with --json, over HTTP; read-only. Errors are "
            "RFC 9457 problem documents naming the parameter at fault.",
        },
        "paths": {
            "/api/runs": {
                "get": {
                    "summary": "List runs (shipyard runs --json), filtered, sorted and paginated.",
                    "operationId": "listRuns",
                    "parameters": listing,
                    "responses": {
                        "200": {
                            **_ok({"type": "array", "items": _LISTED_RUN}, "One page of runs."),
                            "headers": {
                                "X-Total-Count": {
                                    "description": "How many runs match the filters.",
                                    "schema": {"type": "integer"},
                                }
                            },
                        },
                        "400": _PROBLEM,
                    },
                }
            },
            "/api/runs/{run_id}": {
                "get": {
                    "summary": "One run (shipyard runs show --json).",
                    "operationId": "getRun",
                    "parameters": [_RUN_ID],
                    "responses": {"200": _ok(run, "The run."), "404": _PROBLEM},
                }
            },
            "/api/runs/{run_id}/events": {
                "get": {
                    "summary": "The run's JSON as server-sent events ('run') until it has ended.",
                    "operationId": "followRun",
                    "parameters": [_RUN_ID],
                    "responses": {
                        "200": _ok({"type": "string"}, "An event stream.", "text/event-stream"),
                        "404": _PROBLEM,
                    },
                }
            },
            "/api/runs/{run_id}/logs": {
                "get": {
                    "summary": "The run's node logs (shipyard runs logs --json).",
                    "operationId": "getRunLogs",
                    "parameters": [_RUN_ID, _NODE],
                    "responses": {
                        "200": _ok(_RUN_LOGS, "Each node's state and log records."),
                        "400": _PROBLEM,
                        "404": _PROBLEM,
                    },
                }
            },
            "/api/runs/{run_id}/logs/events": {
                "get": {
                    "summary": "The run's node logs as server-sent events ('log', then 'end'),"
                    " live until the run has ended.",
                    "operationId": "followRunLogs",
                    "parameters": [_RUN_ID, _NODE],
                    "responses": {
                        "200": _ok({"type": "string"}, "An event stream.", "text/event-stream"),
                        "400": _PROBLEM,
                        "404": _PROBLEM,
                    },
                }
            },
            "/api/artifacts/{artifact_id}": {
                "get": {
                    "summary": "One artifact (shipyard artifacts show --json).",
                    "operationId": "getArtifact",
                    "parameters": [_ARTIFACT_ID],
                    "responses": {
                        "200": _ok(_OBJECT, "The artifact."),
                        "400": _PROBLEM,
                        "404": _PROBLEM,
                    },
                }
            },
            "/api/artifacts/{artifact_id}/lineage": {
                "get": {
                    "summary": "An artifact's lineage (shipyard lineage --json).",
                    "operationId": "getLineage",
                    "parameters": [
                        _ARTIFACT_ID,
                        _parameter(
                            "depth",
                            "query",
                            {"type": "integer", "minimum": 1, "maximum": 50},
                            "How many steps up and down.",
                        ),
                    ],
                    "responses": {
                        "200": _ok(_OBJECT, "The lineage."),
                        "400": _PROBLEM,
                        "404": _PROBLEM,
                    },
                }
            },
            "/api/compare": {
                "get": {
                    "summary": "Runs side by side (shipyard runs compare --json).",
                    "operationId": "compareRuns",
                    "parameters": [
                        {
                            **_parameter(
                                "runs",
                                "query",
                                {
                                    "type": "string",
                                    "maxLength": 1000,
                                    "pattern": _COMPARED_PATTERN,
                                },
                                f"Two to {MAX_COMPARED} run ids (or unique prefixes), "
                                "comma-separated.",
                            ),
                            "required": True,
                        }
                    ],
                    "responses": {
                        "200": _ok(_OBJECT, "The comparison."),
                        "400": _PROBLEM,
                        "404": _PROBLEM,
                    },
                }
            },
            "/api/models": {
                "get": {
                    "summary": "Every model's versions, labels, blessings, promotion decisions "
                    "and, with shipyard ui --server, served state and figures (shipyard models "
                    "--json).",
                    "operationId": "listModels",
                    "responses": {"200": _ok(_MODELS, "The models."), "400": _PROBLEM},
                }
            },
        },
        "components": {
            "responses": {
                "Problem": _ok(
                    {
                        "type": "object",
                        "required": ["type", "title", "status", "detail"],
                        "properties": {
                            "type": {"type": "string"},
                            "title": {"type": "string"},
                            "status": {"type": "integer"},
                            "detail": {"type": "string"},
                            "parameter": {"type": "string"},
                        },
                    },
                    "An RFC 9457 problem.",
                    "application/problem+json",
                )
            }
        },
    }
