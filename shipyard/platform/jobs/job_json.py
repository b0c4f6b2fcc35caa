"""The JSON of a job: the one shape the REST API answers and `shipyard jobs --json` prints.

It follows Ray's Jobs API where the meaning is the same (`job_id`, `submission_id`,
`entrypoint`, `status`, `message`, `metadata`, `runtime_env.working_dir`,
`entrypoint_num_cpus`...), with Shipyard's project, attempts and times (ISO 8601, UTC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from datetime import datetime

    from shipyard.platform.jobs.records import JobRecord, LogChunk

__all__ = ["JOB_JSON_KEYS", "RESOURCE_FIELDS", "job_json", "log_json"]

RESOURCE_FIELDS: Final = {
    "entrypoint_num_cpus": "num_cpus",
    "entrypoint_num_gpus": "num_gpus",
    "entrypoint_memory": "memory",
}
"""The submission's fields of requested resources, by the name the job records them under."""

JOB_JSON_KEYS: Final = (
    "job_id",
    "submission_id",
    "project",
    "submitter",
    "kind",
    "entrypoint",
    "status",
    "message",
    "metadata",
    "runtime_env",
    "resources",
    "attempts",
    "max_attempts",
    "worker",
    "exit_code",
    "stop_requested",
    "created_at",
    "started_at",
    "ended_at",
)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def job_json(job: JobRecord) -> dict[str, Any]:
    """Return the JSON of `job` (keys in `JOB_JSON_KEYS` order)."""
    return {
        "job_id": job.id,
        "submission_id": job.submission_id,
        "project": job.project,
        "submitter": job.submitter,
        "kind": job.kind,
        "entrypoint": job.entrypoint,
        "status": job.state,
        "message": job.message,
        "metadata": job.metadata,
        "runtime_env": {"working_dir": job.package},
        "resources": job.resources,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "worker": job.lease_owner,
        "exit_code": job.exit_code,
        "stop_requested": job.stop_requested,
        "created_at": _time(job.created_at),
        "started_at": _time(job.started_at),
        "ended_at": _time(job.ended_at),
    }


def log_json(chunks: list[LogChunk]) -> dict[str, Any]:
    """Return the JSON of log chunks: their text joined, and the last `seq` to read after."""
    return {
        "logs": "".join(chunk.text for chunk in chunks),
        "last_seq": chunks[-1].seq if chunks else None,
    }
