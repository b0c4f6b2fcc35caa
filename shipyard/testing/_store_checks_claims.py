"""The checks of `check_store` on claims: one running execution per cache key at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.testing._expectations import expect_equal, expect_fields
from shipyard.testing._store_fixtures import complete_execution, new_artifact, unique_name

if TYPE_CHECKING:
    from shipyard.store.protocol import MetadataStore
    from shipyard.store.records import Claim, RunRecord

__all__ = ["check_claims"]


def check_claims(store: MetadataStore) -> None:
    """claim_execution starts one execution per key; later claimers get the holder or hit."""
    key = unique_name("key")
    first = store.create_run(unique_name("pipeline"))
    started = _claim(store, first, key)
    expect_fields(started, {"outcome": "started"}, "the first claim of a key")
    expect_fields(
        started.execution,
        {"run_id": first.id, "state": "running", "cache_key": key, "node": "train"},
        "the execution a claim started",
    )
    expect_equal(store.get_execution(started.execution.id), started.execution, "get_execution")
    second = store.create_run(first.pipeline)
    for reuse in (True, False):
        held = _claim(store, second, key, reuse=reuse)
        expect_fields(held, {"outcome": "held"}, f"a claim (reuse={reuse}) of a running key")
        expect_equal(held.execution, started.execution, "the holder a claim names")
    expect_equal(
        [e.id for e in store.list_executions(second.id)], [], "executions a held claim made"
    )

    store.complete_execution(started.execution.id, {"model": new_artifact(first, "train")})
    cached = _claim(store, second, key)
    expect_fields(cached, {"outcome": "cached"}, "a claim of a key whose execution completed")
    expect_equal(cached.execution, store.get_execution(started.execution.id), "the hit")
    again = _claim(store, second, key, reuse=False)
    expect_fields(again, {"outcome": "started"}, "a claim with reuse=False of a complete key")
    store.fail_execution(again.execution.id, "boom")

    other = unique_name("key")
    complete_execution(store, first, "train", other)
    store.mark_artifacts_deleted(a.id for a in store.list_artifacts(run_id=first.id))
    expect_fields(
        _claim(store, second, other),
        {"outcome": "started"},
        "a claim of a key whose complete execution's outputs are deleted",
    )

    abandoned = unique_name("key")
    dead = store.create_run(first.pipeline)
    _claim(store, dead, abandoned)
    store.abandon_run(dead.id)
    expect_fields(
        _claim(store, second, abandoned), {"outcome": "started"}, "a key whose holder was abandoned"
    )


def _claim(store: MetadataStore, run: RunRecord, key: str, *, reuse: bool = True) -> Claim:
    return store.claim_execution(
        run.id,
        node="train",
        component="train",
        parameters={"epochs": 3},
        cache_key=key,
        inputs={},
        reuse=reuse,
    )
