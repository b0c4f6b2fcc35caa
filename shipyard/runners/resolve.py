"""Resolve `latest(...)` inputs against the metadata store when a node starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

    from shipyard.dsl import Latest
    from shipyard.io import ArtifactStorage
    from shipyard.store import ArtifactRecord, MetadataStore

BLESSED_PORT = "model"
"""The input port of the evaluation that names the model a blessing is about."""


def resolve_latest(
    store: MetadataStore,
    storage: ArtifactStorage,
    pipeline: str,
    spec: Latest,
    *,
    exclude: Collection[str] = (),
) -> ArtifactRecord | None:
    """Return the newest live artifact of `pipeline` that `spec` selects, or None.

    For `latest_blessed_model()` that is the `model` input of the execution that produced
    the newest `ModelBlessing` with `blessed: true`; a model deleted since (by `shipyard
    gc`) is passed over for the blessing before it.

    Artifacts whose content fingerprint is in `exclude` (the node's other inputs) are passed
    over too: a model is not its own baseline, so rerunning an unchanged pipeline compares
    with the model blessed before it, and stays cached.
    """
    candidates = (
        _blessed_models(store, pipeline) if spec.blessed else _newest(store, pipeline, spec)
    )
    for record in candidates:
        if (
            record.type_name == spec.type.type_name
            and record.state == "live"
            and all(record.properties.get(k) == v for k, v in spec.where.items())
            and record.fingerprint not in exclude
            and storage.exists(record.uri)
        ):
            return record
    return None


def _newest(store: MetadataStore, pipeline: str, spec: Latest) -> Iterator[ArtifactRecord]:
    found = store.list_artifacts(pipeline=pipeline, type_name=spec.type.type_name, state="live")
    yield from reversed(found)


def _blessed_models(store: MetadataStore, pipeline: str) -> Iterator[ArtifactRecord]:
    blessings = store.list_artifacts(pipeline=pipeline, type_name="ModelBlessing")
    for blessing in reversed(blessings):
        if blessing.properties.get("blessed") is not True:
            continue
        # The first output event is the producer's; cached reuses of the blessing come later.
        producer = next(e for e in store.events_of_artifact(blessing.id) if e.kind == "output")
        for event in store.events_of_execution(producer.execution_id):
            if event.kind == "input" and event.name == BLESSED_PORT:
                yield store.get_artifact(event.artifact_id)
