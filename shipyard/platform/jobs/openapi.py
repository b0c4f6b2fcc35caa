"""The OpenAPI 3.1 paths of the jobs API (`shipyard.platform.openapi` composes the document)."""

from __future__ import annotations

from typing import Any, Final

from shipyard.platform.jobs.job_json import JOB_JSON_KEYS, RESOURCE_FIELDS
from shipyard.platform.jobs.records import JOB_STATES
from shipyard.platform.jobs.spaces import PROJECT_PATTERN
from shipyard.platform.jobs.submission import MAX_ATTEMPTS_LIMIT, MAX_ENTRYPOINT

__all__ = ["job_paths"]

_PROBLEM: Final = {"$ref": "#/components/responses/Problem"}
_DENIED: Final = {"401": _PROBLEM, "403": _PROBLEM, "404": _PROBLEM}
_JOB: Final = {
    "type": "object",
    "required": list(JOB_JSON_KEYS),
    "properties": {
        **{key: {} for key in JOB_JSON_KEYS},
        "job_id": {"type": "integer"},
        "status": {"enum": list(JOB_STATES)},
        "message": {"type": "string"},
    },
}
_JOB_ID: Final = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "description": "A job id.",
}
_SUBMISSION: Final = {
    "type": "object",
    "required": ["entrypoint", "project"],
    "additionalProperties": False,
    "properties": {
        "entrypoint": {"type": "string", "minLength": 1, "maxLength": MAX_ENTRYPOINT},
        "project": {"type": "string", "pattern": PROJECT_PATTERN},
        "submission_id": {"type": "string", "maxLength": 255},
        "runtime_env": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"working_dir": {"type": "string"}},
        },
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": MAX_ATTEMPTS_LIMIT},
        **{field: {"type": "number", "minimum": 0} for field in RESOURCE_FIELDS},
    },
}


def _ok(schema: dict[str, Any], text: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": text, "content": {media: {"schema": schema}}}


def _job_operation(summary: str, operation_id: str, answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "operationId": operation_id,
        "parameters": [_JOB_ID],
        "responses": {"200": answer, **_DENIED, "409": _PROBLEM},
    }


def job_paths() -> dict[str, Any]:
    """The paths of the packages and jobs endpoints."""
    job = _ok(_JOB, "The job.")
    return {
        "/api/packages": {
            "post": {
                "summary": "Upload a working directory (tar.gz, content-addressed).",
                "operationId": "uploadPackage",
                "parameters": [
                    {
                        "name": "project",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "responses": {
                    "201": _ok(
                        {"type": "object", "required": ["working_dir", "size_bytes"]},
                        "The package's sha256, for runtime_env.working_dir.",
                    ),
                    "400": _PROBLEM,
                    **_DENIED,
                },
            }
        },
        "/api/jobs/": {
            "post": {
                "summary": "Submit a job; a submission_id used before answers with that job.",
                "operationId": "submitJob",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _SUBMISSION}},
                },
                "responses": {
                    "200": _ok({"type": "object"}, "The job submitted before with this id."),
                    "201": _ok(
                        {"type": "object", "required": ["job_id", "submission_id"]}, "Queued."
                    ),
                    "400": _PROBLEM,
                    **_DENIED,
                },
            },
            "get": {
                "summary": "List jobs, newest first (shipyard jobs list --json).",
                "operationId": "listJobs",
                "parameters": [
                    {"name": "project", "in": "query", "schema": {"type": "string"}},
                    {"name": "status", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": _ok({"type": "object", "required": ["jobs"]}, "The jobs."),
                    "400": _PROBLEM,
                    **_DENIED,
                },
            },
        },
        "/api/jobs/{job_id}": {
            "get": _job_operation("A job and why it is in its state.", "getJob", job),
            "delete": _job_operation(
                "Delete a job that has ended.", "deleteJob", _ok(_JOB, "Deleted.")
            ),
        },
        "/api/jobs/{job_id}/logs": {
            "get": _job_operation(
                "The job's logs so far.",
                "getJobLogs",
                _ok({"type": "object", "required": ["logs", "last_seq"]}, "The logs."),
            )
        },
        "/api/jobs/{job_id}/logs/tail": {
            "get": _job_operation(
                "The job's logs, live, as server-sent events until it ends.",
                "tailJobLogs",
                _ok({"type": "string"}, "log events, then an end event.", "text/event-stream"),
            )
        },
        "/api/jobs/{job_id}/stop": {"post": _job_operation("Stop a job.", "stopJob", job)},
        "/api/jobs/{job_id}/retry": {
            "post": _job_operation("Queue an ended job again.", "retryJob", job)
        },
    }
