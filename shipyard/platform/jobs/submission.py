"""Reading a job submission's JSON body (Ray's Jobs API shape) into a `NewJob`.

Every problem names the field at fault and what it may hold (a 400 naming the field).
"""

from __future__ import annotations

import secrets
import shlex
from typing import Any, Final

from shipyard.platform.jobs.job_json import RESOURCE_FIELDS
from shipyard.platform.jobs.records import NewJob
from shipyard.platform.jobs.spaces import check_project_name
from shipyard.ui.problems import BadParameter

__all__ = ["MAX_ATTEMPTS_LIMIT", "MAX_ENTRYPOINT", "parse_submission"]

MAX_ENTRYPOINT: Final = 10_000
MAX_ATTEMPTS_LIMIT: Final = 10
_MAX_KEY: Final = 255
_KNOWN: Final = {
    "entrypoint",
    "submission_id",
    "project",
    "runtime_env",
    "metadata",
    "max_attempts",
    *RESOURCE_FIELDS,
}


def parse_submission(body: Any, *, submitter: str) -> NewJob:
    """Return the job a submission's body asks for, submitted by `submitter`.

    Raises:
        BadParameter: A field is missing, unknown or holds what it may not.
    """
    if not isinstance(body, dict):
        raise BadParameter("body", "must be a JSON object.")
    unknown = sorted(set(body) - _KNOWN)
    if unknown:
        raise BadParameter(
            unknown[0], f"is not a field of a job; known: {', '.join(sorted(_KNOWN))}."
        )
    entrypoint = body.get("entrypoint")
    if (
        not isinstance(entrypoint, str)
        or not entrypoint.strip()
        or len(entrypoint) > MAX_ENTRYPOINT
    ):
        raise BadParameter(
            "entrypoint", f"must be a command line of 1 to {MAX_ENTRYPOINT} characters."
        )
    try:
        shlex.split(entrypoint)
    except ValueError as exc:
        raise BadParameter("entrypoint", f"cannot be parsed as a command line: {exc}.") from None
    project = body.get("project")
    if not isinstance(project, str):
        raise BadParameter("project", "must name the project to run the job in.")
    try:
        check_project_name(project)
    except ValueError as exc:
        raise BadParameter("project", str(exc)) from None
    key = body.get("submission_id") or f"sub_{secrets.token_hex(8)}"
    if not isinstance(key, str) or len(key) > _MAX_KEY:
        raise BadParameter("submission_id", f"must be a string of at most {_MAX_KEY} characters.")
    return NewJob(
        project=project,
        submission_id=key,
        submitter=submitter,
        entrypoint=entrypoint,
        metadata=_metadata(body.get("metadata")),
        package=_working_dir(body.get("runtime_env")),
        resources=_resources(body),
        max_attempts=_max_attempts(body.get("max_attempts", 3)),
    )


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadParameter("metadata", "must be an object of strings.")
    return dict(value)


def _working_dir(runtime_env: Any) -> str | None:
    if runtime_env is None:
        return None
    if not isinstance(runtime_env, dict) or set(runtime_env) - {"working_dir"}:
        raise BadParameter("runtime_env", "may hold only 'working_dir' (an uploaded package).")
    working_dir = runtime_env.get("working_dir")
    if working_dir is not None and not isinstance(working_dir, str):
        raise BadParameter("runtime_env.working_dir", "must be a package's sha256.")
    return working_dir


def _resources(body: dict[str, Any]) -> dict[str, float]:
    resources: dict[str, float] = {}
    for field, name in RESOURCE_FIELDS.items():
        value = body.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise BadParameter(field, f"must be a number >= 0. Got {value!r} instead.")
        resources[name] = value
    return resources


def _max_attempts(value: Any) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_ATTEMPTS_LIMIT
    ):
        raise BadParameter(
            "max_attempts", f"must be an int from 1 to {MAX_ATTEMPTS_LIMIT}. Got {value!r} instead."
        )
    return value
