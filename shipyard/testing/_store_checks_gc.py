"""The store checks of `shipyard gc`'s commit point: what is in use is never deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.errors import ArtifactDeletedError, NotFoundError
from shipyard.testing._expectations import expect_equal, expect_raises
from shipyard.testing._store_fixtures import (
    MISSING_ID,
    complete_execution,
    record_cached,
    unique_name,
)

if TYPE_CHECKING:
    from shipyard.store.protocol import MetadataStore

__all__ = ["check_gc_keeps_what_is_used"]


def check_gc_keeps_what_is_used(store: MetadataStore) -> None:
    """mark_unused_artifacts_deleted spares what other runs use; a deleted one cannot be used."""
    pipeline = unique_name("pipeline")
    old = store.create_run(pipeline)
    _, old_outputs = complete_execution(store, old, "train")
    _, shared_outputs = complete_execution(store, old, "ingest")
    store.finish_run(old.id, "complete")
    model, shared = old_outputs["model"].id, shared_outputs["model"].id
    running = store.create_run(pipeline)
    record_cached(store, running.id, outputs={"model": shared})

    deleted = store.mark_unused_artifacts_deleted([model, shared], old_runs=[old.id])
    expect_equal(deleted, {model}, "mark_unused_artifacts_deleted(one used by a running run)")
    expect_equal(store.get_artifact(model).state, "deleted", "state of the unused artifact")
    expect_equal(store.get_artifact(shared).state, "live", "state of the artifact in use")
    expect_raises(
        ArtifactDeletedError,
        lambda: record_cached(store, running.id, outputs={"model": model}),
        "record_execution(outputs=[a deleted artifact])",
    )
    expect_raises(
        ArtifactDeletedError,
        lambda: store.start_execution(
            running.id,
            node="n",
            component="c",
            parameters={},
            cache_key="k",
            inputs={"model": model},
        ),
        "start_execution(inputs=[a deleted artifact])",
    )
    expect_equal(
        [e.node for e in store.list_executions(running.id)],
        ["n"],
        "executions after refused uses of a deleted artifact (only the first, cached one)",
    )
    expect_raises(
        NotFoundError,
        lambda: store.mark_unused_artifacts_deleted([shared, MISSING_ID], old_runs=[old.id]),
        "mark_unused_artifacts_deleted([known, unknown])",
    )
    expect_equal(store.mark_unused_artifacts_deleted([], old_runs=[]), set(), "([], [])")
