"""Store queries as JSON-ready dicts: what the CLI prints with `--json` and the UI serves.

A run's own JSON is owned by `runners.run_json`; this module owns the records' flat shapes,
artifacts and lineage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.errors import NotFoundError
from shipyard.runners.execution import artifact_from_record

if TYPE_CHECKING:
    from shipyard.runners.project import Project
    from shipyard.store import ArtifactRecord, ExecutionRecord, RunRecord

DEFAULT_LINEAGE_DEPTH = 10


def run_summary(run: RunRecord) -> dict[str, Any]:
    """A run as a flat dict."""
    return {
        "id": run.id,
        "pipeline": run.pipeline,
        "state": run.state,
        "started_at": run.started_at.isoformat(),
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "duration_s": run.duration_s,
        "properties": run.properties,
    }


def execution_summary(execution: ExecutionRecord) -> dict[str, Any]:
    """An execution as a flat dict."""
    return {
        "id": execution.id,
        "run": execution.run_id,
        "pipeline": execution.pipeline,
        "node": execution.node,
        "component": execution.component,
        "state": execution.state,
        "parameters": execution.parameters,
        "started_at": execution.started_at.isoformat(),
        "duration_s": execution.duration_s,
        "cached_from": execution.cached_from,
        "error": execution.error,
    }


def artifact_summary(artifact: ArtifactRecord) -> dict[str, Any]:
    """An artifact as a flat dict."""
    return {
        "id": artifact.id,
        "type": artifact.type_name,
        "name": artifact.name,
        "uri": artifact.uri,
        "state": artifact.state,
        "fingerprint": artifact.fingerprint,
        "properties": artifact.properties,
        "created_at": artifact.created_at.isoformat(),
    }


def show_artifact(project: Project, artifact_id: int) -> dict[str, Any]:
    """An artifact, who produced it, who read it, and a preview of its content."""
    store = project.store
    record = store.get_artifact(artifact_id)
    producer, consumers = _producer_and_consumers(project, artifact_id)
    preview: dict[str, Any] | None = None
    if record.state == "live":
        try:
            artifact = artifact_from_record(record, project.storage)
            project.storage.localize(record.uri)
            preview = artifact.preview()
        except (OSError, NotFoundError, ValueError) as exc:
            preview = {"error": f"cannot read the artifact's files: {exc}"}
    return {
        **artifact_summary(record),
        "producer": execution_summary(producer) if producer else None,
        "consumers": [execution_summary(e) for e in consumers],
        "preview": preview,
    }


def lineage(
    project: Project, artifact_id: int, *, depth: int = DEFAULT_LINEAGE_DEPTH
) -> dict[str, Any]:
    """The upstream and downstream graph of an artifact, as nested trees.

    Upstream follows the execution that produced an artifact to its inputs; downstream follows
    the executions that read it to their outputs. Cached executions reuse their producer's
    artifacts, so they appear as consumers only when they read the artifact.
    """
    record = project.store.get_artifact(artifact_id)
    return {
        "artifact": artifact_summary(record),
        "upstream": _upstream(project, artifact_id, depth, set()),
        "downstream": _downstream(project, artifact_id, depth, set()),
    }


def _producer_and_consumers(
    project: Project, artifact_id: int
) -> tuple[ExecutionRecord | None, list[ExecutionRecord]]:
    store = project.store
    producer = None
    consumers = []
    for event in store.events_of_artifact(artifact_id):
        execution = store.get_execution(event.execution_id)
        # Cached executions name their outputs too; a failed one published them before
        # it stopped the run (validation's anomalies).
        if event.kind == "output" and execution.state in ("complete", "failed"):
            producer = execution
        elif event.kind == "input":
            consumers.append(execution)
    return producer, consumers


def _upstream(
    project: Project, artifact_id: int, depth: int, seen: set[int]
) -> dict[str, Any] | None:
    producer, _ = _producer_and_consumers(project, artifact_id)
    if producer is None or depth <= 0 or producer.id in seen:
        return None
    seen.add(producer.id)
    inputs = []
    for event in project.store.events_of_execution(producer.id):
        if event.kind == "input":
            inputs.append(
                {
                    "port": event.name,
                    "artifact": artifact_summary(project.store.get_artifact(event.artifact_id)),
                    "producer": _upstream(project, event.artifact_id, depth - 1, seen),
                }
            )
    return {"execution": execution_summary(producer), "inputs": inputs}


def _downstream(
    project: Project, artifact_id: int, depth: int, seen: set[int]
) -> list[dict[str, Any]]:
    if depth <= 0:
        return []
    _, consumers = _producer_and_consumers(project, artifact_id)
    trees = []
    for consumer in consumers:
        if consumer.id in seen:
            continue
        seen.add(consumer.id)
        outputs = []
        for event in project.store.events_of_execution(consumer.id):
            if event.kind == "output":
                outputs.append(
                    {
                        "port": event.name,
                        "artifact": artifact_summary(project.store.get_artifact(event.artifact_id)),
                        "consumers": _downstream(project, event.artifact_id, depth - 1, seen),
                    }
                )
        trees.append({"execution": execution_summary(consumer), "outputs": outputs})
    return trees
