"""The checks of `check_store` on caching, lineage, garbage collection and failed writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.errors import NotFoundError
from shipyard.store.records import Event
from shipyard.testing._expectations import (
    expect,
    expect_equal,
    expect_fields,
    expect_raises,
    expect_utc,
    fail,
)
from shipyard.testing._store_fixtures import (
    MISSING_ID,
    complete_execution,
    new_artifact,
    record_cached,
    start_execution,
    unique_name,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.store.protocol import MetadataStore
    from shipyard.store.records import ArtifactRecord, ExecutionRecord

__all__ = [
    "check_find_cached",
    "check_gc_primitives",
    "check_not_found",
    "check_record_skipped",
    "check_writes_are_atomic",
]


def check_find_cached(store: MetadataStore) -> None:
    """find_cached returns the newest complete execution whose outputs are all live."""
    key = unique_name("key")
    expect_equal(store.find_cached(key), None, "find_cached(unknown key)")
    run = store.create_run(unique_name("pipeline"))
    older = complete_execution(store, run, "train", key)
    newer = complete_execution(store, run, "train", key)
    store.fail_execution(start_execution(store, run.id, "train", key).id, "boom")
    start_execution(store, run.id, "train", key)  # still running: never a cache hit
    _expect_cache_hit(store, key, newer, "with two complete executions")

    rerun = store.create_run(run.pipeline)
    producer, outputs = newer
    cached = store.record_execution(
        rerun.id,
        node="train",
        component="train",
        parameters={},
        cache_key=key,
        state="cached",
        inputs={},
        outputs={port: a.id for port, a in outputs.items()},
        cached_from=producer.id,
    )
    expected = {"state": "cached", "cached_from": producer.id, "run_id": rerun.id}
    expect_fields(cached, {**expected, "cache_key": key}, "record_execution(...)")
    expect_utc(cached.ended_at, "ended_at of a recorded execution")
    expect_equal(store.get_execution(cached.id), cached, "get_execution(recorded id)")
    expect_equal(
        store.events_of_execution(cached.id),
        [Event(outputs["model"].id, cached.id, "output", "model")],
        "events of a cached execution: the producer's artifacts",
    )
    _expect_cache_hit(store, key, newer, "after a cached execution (which is never a hit)")

    store.mark_artifacts_deleted([outputs["model"].id])
    _expect_cache_hit(store, key, older, "after the newest hit's output was deleted")
    store.mark_artifacts_deleted([older[1]["model"].id])
    expect_equal(store.find_cached(key), None, "find_cached when every output is deleted")


def check_record_skipped(store: MetadataStore) -> None:
    """record_execution registers a skipped execution with its error and no events."""
    run = store.create_run(unique_name("pipeline"))
    skipped = store.record_execution(
        run.id,
        node="push",
        component="push",
        parameters={"to": "prod"},
        cache_key="",
        state="skipped",
        inputs={},
        outputs={},
        error="upstream node 'train' failed",
    )
    expected: dict[str, object] = {"state": "skipped", "error": "upstream node 'train' failed"}
    expected |= {"cached_from": None, "parameters": {"to": "prod"}}
    expect_fields(skipped, expected, "record_execution(state='skipped')")
    expect_equal(store.list_executions(run.id), [skipped], "list_executions(run)")
    expect_equal(store.events_of_execution(skipped.id), [], "events of a skipped execution")


def check_gc_primitives(store: MetadataStore) -> None:
    """Artifacts are attributed to the run that produced them and can be marked deleted."""
    first = store.create_run(unique_name("pipeline"))
    raw = complete_execution(store, first, "ingest")[1]["model"]
    second = store.create_run(first.pipeline)
    trained = store.start_execution(
        second.id,
        node="train",
        component="train",
        parameters={},
        cache_key=unique_name("key"),
        inputs={"data": raw.id},
    )
    model = store.complete_execution(trained.id, {"model": new_artifact(second, "train")})
    model_id = model["model"].id
    third = store.create_run(first.pipeline)
    store.record_execution(
        third.id,
        node="train",
        component="train",
        parameters={},
        cache_key=trained.cache_key,
        state="cached",
        inputs={"data": raw.id},
        outputs={"model": model_id},
        cached_from=trained.id,
    )

    expect_equal(
        [a.id for a in store.list_artifacts(run_id=first.id)],
        [raw.id],
        "list_artifacts(run_id=producer run)",
    )
    expect_equal(
        store.list_artifacts(run_id=third.id),
        [],
        "list_artifacts(run_id=a run that only re-used artifacts)",
    )
    expect_equal(
        [a.id for a in store.list_artifacts(pipeline=first.pipeline)],
        [raw.id, model_id],
        "list_artifacts(pipeline=...), oldest first",
    )
    expect_equal(
        [a.id for a in store.list_artifacts(pipeline=first.pipeline, type_name="Examples")],
        [],
        "list_artifacts(pipeline=..., type_name=a type it has none of)",
    )
    expect_equal(
        store.list_artifacts(pipeline=unique_name("no-such-pipeline")),
        [],
        "list_artifacts(pipeline=an unknown pipeline)",
    )
    expect_equal(store.artifacts_used_by_runs([first.id]), {raw.id}, "used by the first run")
    expect_equal(
        store.artifacts_used_by_runs([second.id]),
        {raw.id, model_id},
        "artifacts_used_by_runs(run that read one and wrote one)",
    )
    expect_equal(
        store.artifacts_used_by_runs([third.id]),
        {raw.id, model_id},
        "artifacts_used_by_runs(run with a cached execution)",
    )
    expect_equal(store.artifacts_used_by_runs([]), set(), "artifacts_used_by_runs([])")

    store.mark_artifacts_deleted([raw.id])
    store.mark_artifacts_deleted([raw.id])  # idempotent
    expect_equal(store.get_artifact(raw.id).state, "deleted", "state after mark_artifacts_deleted")
    deleted = {a.id for a in store.list_artifacts(state="deleted")}
    live = {a.id for a in store.list_artifacts(state="live")}
    expect(raw.id in deleted and raw.id not in live, "list_artifacts(state=...) ignores deletion")
    expect(model_id in live and model_id not in deleted, "an untouched artifact must stay live")
    expect_equal(
        len(store.events_of_artifact(raw.id)), 3, "events of a deleted artifact (kept for lineage)"
    )


def check_not_found(store: MetadataStore) -> None:
    """Every lookup of an unknown run, execution or artifact raises NotFoundError."""
    run = store.create_run(unique_name("pipeline"))
    gone, missing = "1999-01-01T00-00-00-0000", MISSING_ID
    calls: dict[str, Callable[[], object]] = {
        "get_run": lambda: store.get_run(gone),
        "finish_run": lambda: store.finish_run(gone, "complete"),
        "abandon_run": lambda: store.abandon_run(gone),
        "start_execution(unknown run)": lambda: start_execution(store, gone, "n"),
        "start_execution(unknown input)": lambda: store.start_execution(
            run.id, node="n", component="c", parameters={}, cache_key="k", inputs={"x": missing}
        ),
        "complete_execution": lambda: store.complete_execution(missing, {}),
        "fail_execution": lambda: store.fail_execution(missing, "boom"),
        "record_execution(unknown run)": lambda: record_cached(store, gone),
        "record_execution(unknown output)": lambda: record_cached(
            store, run.id, outputs={"m": missing}
        ),
        "record_execution(unknown cached_from)": lambda: record_cached(
            store, run.id, cached=missing
        ),
        "get_execution": lambda: store.get_execution(missing),
        "list_executions": lambda: store.list_executions(gone),
        "get_artifact": lambda: store.get_artifact(missing),
        "list_artifacts": lambda: store.list_artifacts(run_id=gone),
        "events_of_execution": lambda: store.events_of_execution(missing),
        "events_of_artifact": lambda: store.events_of_artifact(missing),
        "artifacts_used_by_runs": lambda: store.artifacts_used_by_runs([run.id, gone]),
        "mark_artifacts_deleted": lambda: store.mark_artifacts_deleted([missing]),
    }
    for what, call in calls.items():
        expect_raises(NotFoundError, call, what)


def check_writes_are_atomic(store: MetadataStore) -> None:
    """A write that fails leaves no partial effect behind."""
    run = store.create_run(unique_name("pipeline"))
    keep = complete_execution(store, run, "ingest")[1]["model"]
    before = store.list_executions(run.id)
    expect_raises(
        NotFoundError,
        lambda: store.start_execution(
            run.id,
            node="n",
            component="c",
            parameters={},
            cache_key="k",
            inputs={"ok": keep.id, "gone": MISSING_ID},
        ),
        "start_execution(unknown input)",
    )
    expect_raises(
        NotFoundError,
        lambda: record_cached(store, run.id, outputs={"m": MISSING_ID}),
        "record_execution(unknown output)",
    )
    expect_equal(store.list_executions(run.id), before, "executions after failed writes")
    expect_raises(
        NotFoundError,
        lambda: store.mark_artifacts_deleted([keep.id, MISSING_ID]),
        "mark_artifacts_deleted([known, unknown])",
    )
    expect_equal(
        store.get_artifact(keep.id).state,
        "live",
        "state of a known artifact after mark_artifacts_deleted failed",
    )


def _expect_cache_hit(
    store: MetadataStore,
    key: str,
    expected: tuple[ExecutionRecord, dict[str, ArtifactRecord]],
    when: str,
) -> None:
    hit = store.find_cached(key)
    if hit is None:
        fail(f"find_cached({key!r}) {when}: expected execution {expected[0].id}, got None")
    execution, outputs = hit
    expect_equal(execution.id, expected[0].id, f"find_cached(...) {when}: the execution id")
    expect_equal(execution.state, "complete", f"find_cached(...) {when}: the execution state")
    expect_equal(outputs, expected[1], f"find_cached(...) {when}: the outputs by port")
