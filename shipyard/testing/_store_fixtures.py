"""What the store checks write: unique names, new artifacts and executions in a run."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from shipyard.store.records import NewArtifact

if TYPE_CHECKING:
    from shipyard.store.protocol import MetadataStore
    from shipyard.store.records import ArtifactRecord, Event, ExecutionRecord, RunRecord

__all__ = [
    "MISSING_ID",
    "complete_execution",
    "new_artifact",
    "record_cached",
    "sorted_events",
    "start_execution",
    "unique_name",
]

MISSING_ID = 2_147_483_000  # an id no test store reaches, within a 32-bit integer column


def unique_name(prefix: str) -> str:
    return f"check-{prefix}-{uuid.uuid4().hex[:12]}"


def new_artifact(
    run: RunRecord, node: str, port: str = "model", *, type_name: str = "Model"
) -> NewArtifact:
    name = f"{run.pipeline}/{run.id}/{node}/{port}"
    return NewArtifact(
        type_name=type_name,
        uri=f"file:///artifacts/{name}",
        fingerprint=uuid.uuid4().hex,
        name=name,
        properties={"split": ["train"]},
    )


def start_execution(
    store: MetadataStore, run_id: str, node: str, key: str | None = None
) -> ExecutionRecord:
    return store.start_execution(
        run_id,
        node=node,
        component=node,
        parameters={},
        cache_key=key or unique_name("key"),
        inputs={},
    )


def complete_execution(
    store: MetadataStore, run: RunRecord, node: str, key: str | None = None
) -> tuple[ExecutionRecord, dict[str, ArtifactRecord]]:
    execution = start_execution(store, run.id, node, key)
    outputs = store.complete_execution(execution.id, {"model": new_artifact(run, node)})
    return store.get_execution(execution.id), outputs


def record_cached(
    store: MetadataStore,
    run_id: str,
    *,
    outputs: dict[str, int] | None = None,
    cached: int | None = None,
) -> ExecutionRecord:
    return store.record_execution(
        run_id,
        node="n",
        component="c",
        parameters={},
        cache_key="k",
        state="cached",
        inputs={},
        outputs=outputs or {},
        cached_from=cached,
    )


def sorted_events(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.execution_id, e.kind, e.name, e.artifact_id))
