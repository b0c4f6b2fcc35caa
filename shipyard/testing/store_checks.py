"""`check_store`: the conformance suite every `MetadataStore` backend must pass.

Like scikit-learn's `check_estimator`, it is public so that third-party store backends run
it in their own CI. Each check opens a store with the factory it is given, exercises one
part of the protocol and closes the store. The checks use fresh, unique pipeline names and
cache keys, so the factory may return a store that already holds data, even the same
database every time. Records that writing methods return must equal those read back.

The checks of runs and executions are here; those of caching, lineage, garbage collection
and failed writes are in `_store_checks_lineage`.

Example:
    >>> from shipyard.testing import check_store
    >>> def test_my_store_conforms(tmp_path):
    ...     check_store(lambda: MyStore(f"mystore://{tmp_path}/db"))
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shipyard.errors import InvalidParameterError, NotFoundError, StoreError
from shipyard.store.protocol import MetadataStore
from shipyard.store.records import Event, RunQuery
from shipyard.testing._expectations import (
    expect,
    expect_equal,
    expect_fields,
    expect_found,
    expect_raises,
    expect_recent,
    expect_utc,
    fail,
)
from shipyard.testing._store_checks_claims import check_claims
from shipyard.testing._store_checks_gc import check_gc_keeps_what_is_used
from shipyard.testing._store_checks_lineage import (
    check_find_cached,
    check_gc_primitives,
    check_not_found,
    check_record_skipped,
    check_writes_are_atomic,
)
from shipyard.testing._store_fixtures import (
    new_artifact,
    sorted_events,
    start_execution,
    unique_name,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from shipyard.store.records import JSON, RunRecord

__all__ = ["check_store"]

RUN_ID = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-[0-9a-f]{4}")
_PARAMETERS: JSON = {"rows": 3, "rate": 0.5, "on": True, "none": None, "list": [1, "ü"], "map": {}}


def check_store(make_store: Callable[[], MetadataStore]) -> None:
    """Check that a store backend honours the `MetadataStore` protocol.

    Args:
        make_store: Returns an open store; it is called once per check and every store it
            returns is closed by the check. It may return stores that already hold data.

    Raises:
        AssertionError: A check found a violation; the message names the check and what
            was expected. Other exceptions from the store propagate with a note naming the
            check.
    """
    for check in CHECKS:
        store = make_store()
        try:
            check(store)
        except AssertionError as exc:
            raise AssertionError(f"check_store: {check.__name__} on {store!r}: {exc}") from exc
        except Exception as exc:
            exc.add_note(f"raised during check_store: {check.__name__} on {store!r}")
            raise
        finally:
            store.close()


# Checks -----------------------------------------------------------------------------------
def check_protocol(store: MetadataStore) -> None:
    """The store implements every method of the protocol and names itself."""
    expect(isinstance(store, MetadataStore), "the store does not implement MetadataStore")
    expect(isinstance(store.name, str) and bool(store.name), "name must be a non-empty str")
    expect(isinstance(store.url, str), f"url must be a str, got {store.url!r}")


def check_run_lifecycle(store: MetadataStore) -> None:
    """A created run is running with a well-formed id, and finish_run ends it."""
    pipeline = unique_name("pipeline")
    before = datetime.now(UTC)
    run = store.create_run(pipeline, properties={"git": "abc123", "tags": ["nightly"]})
    expect(RUN_ID.fullmatch(run.id) is not None, f"run id {run.id!r} is not like {RUN_ID}")
    expect_equal(run.pipeline, pipeline, "create_run(...).pipeline")
    expect_equal(run.state, "running", "create_run(...).state")
    expect_equal(run.ended_at, None, "create_run(...).ended_at")
    expect_equal(run.properties, {"git": "abc123", "tags": ["nightly"]}, "run properties")
    expect_recent(run.started_at, before, "create_run(...).started_at")
    _expect_same_run(store.get_run(run.id), run, "get_run(id)")

    finished = store.finish_run(run.id, "failed")
    expect_fields(finished, {"id": run.id, "state": "failed"}, "finish_run(...)")
    expect_utc(finished.ended_at, "finish_run(...).ended_at")
    expect(
        finished.ended_at is not None and finished.ended_at >= run.started_at,
        "a run's ended_at must not be before its started_at",
    )
    expect_equal(store.get_run(run.id).state, "failed", "get_run(id).state after finish_run")


def check_run_ids_are_unique(store: MetadataStore) -> None:
    """Runs created within the same second get distinct ids."""
    pipeline = unique_name("pipeline")
    ids = [store.create_run(pipeline).id for _ in range(30)]
    expect_equal(len(set(ids)), len(ids), "number of distinct ids among 30 new runs")


def check_run_prefix_lookup(store: MetadataStore) -> None:
    """get_run accepts a prefix matching one run and rejects an ambiguous or unknown one."""
    pipeline = unique_name("pipeline")
    for _ in range(20):  # ids that differ only in their last character leave no real prefix
        first, second = store.create_run(pipeline), store.create_run(pipeline)
        others = [run.id for run in store.list_runs() if run.id != first.id]
        length = next(
            n
            for n in range(1, len(first.id) + 1)
            if not any(other.startswith(first.id[:n]) for other in others)
        )
        if length < len(first.id):
            break
    found = expect_found(lambda: store.get_run(first.id[:length]), "get_run(unique prefix)")
    expect_equal(found.id, first.id, "get_run(unique prefix).id")
    pairs = enumerate(zip(first.id, second.id, strict=False))
    common = first.id[: next((i for i, (a, b) in pairs if a != b), len(first.id))]
    expect_raises(NotFoundError, lambda: store.get_run(common), f"get_run({common!r}), ambiguous")
    expect_raises(NotFoundError, lambda: store.get_run("1999-01-01T00-00-00-0000"), "get_run")


def check_list_runs(store: MetadataStore) -> None:
    """list_runs returns runs newest first, filtered by pipeline and limited."""
    pipeline = unique_name("pipeline")
    created = [store.create_run(pipeline).id for _ in range(3)]
    newest_first = created[::-1]
    expect_equal(
        [r.id for r in store.list_runs(pipeline=pipeline)],
        newest_first,
        "list_runs(pipeline=...), newest first",
    )
    expect_equal(
        [r.id for r in store.list_runs(pipeline=pipeline, limit=2)],
        newest_first[:2],
        "list_runs(limit=2)",
    )
    everything = [run.id for run in store.list_runs() if run.id in created]
    expect_equal(everything, newest_first, "the order of these runs in list_runs()")
    expect_equal(store.list_runs(pipeline=unique_name("unknown")), [], "list_runs(unknown)")


def check_runs_sort_by_recorded_metrics(store: MetadataStore) -> None:
    """find_runs sorts by the metrics finish_run recorded; runs without one come last."""
    pipeline = unique_name("pipeline")
    low, high, none = (store.create_run(pipeline).id for _ in range(3))
    store.finish_run(low, "complete", metrics={"accuracy": 0.5, "auc": 0.9})
    store.finish_run(high, "complete", metrics={"accuracy": 0.8})
    store.finish_run(none, "complete")
    for descending, expected in ((True, [high, low, none]), (False, [low, high, none])):
        query = RunQuery(pipeline=pipeline, order_by="metrics.accuracy", descending=descending)
        expect_equal(
            [r.id for r in store.find_runs(query).runs],
            expected,
            f"find_runs(order_by='metrics.accuracy', descending={descending})",
        )


def check_execution_lifecycle(store: MetadataStore) -> None:
    """Executions start running, complete with live outputs, fail, and record their events."""
    run = store.create_run(unique_name("pipeline"))
    key = unique_name("key")
    producer = store.start_execution(
        run.id, node="ingest", component="ingest", parameters=_PARAMETERS, cache_key=key, inputs={}
    )
    expected: dict[str, object] = {"run_id": run.id, "pipeline": run.pipeline, "node": "ingest"}
    expected |= {
        "component": "ingest",
        "parameters": _PARAMETERS,
        "cache_key": key,
        "state": "running",
    }
    expected |= {"ended_at": None, "error": None, "cached_from": None}
    expect_fields(producer, expected, "start_execution(...)")
    expect_utc(producer.started_at, "start_execution(...).started_at")
    expect_equal(store.get_execution(producer.id), producer, "get_execution(id) while running")

    news = {
        "examples": new_artifact(run, "ingest", "examples"),
        "report": new_artifact(run, "ingest", "report", type_name="Report"),
    }
    outputs = store.complete_execution(producer.id, news)
    expect_equal(sorted(outputs), ["examples", "report"], "ports of complete_execution(...)")
    for port, artifact in outputs.items():
        expected = {**vars(news[port]), "state": "live"}
        expect_fields(artifact, expected, f"the {port!r} output of complete_execution(...)")
        expect_utc(artifact.created_at, "ArtifactRecord.created_at")
        expect_equal(store.get_artifact(artifact.id), artifact, "get_artifact(id)")
    done = store.get_execution(producer.id)
    expect_equal(done.state, "complete", "get_execution(id).state after complete_execution")
    expect_utc(done.ended_at, "ended_at of a complete execution")
    expect(
        done.ended_at is not None and done.ended_at >= done.started_at,
        "a complete execution needs an ended_at not before its started_at",
    )

    examples = outputs["examples"].id
    consumer = store.start_execution(
        run.id,
        node="train",
        component="train",
        parameters={},
        cache_key=unique_name("key"),
        inputs={"data": examples},
    )
    store.fail_execution(consumer.id, "ValueError: boom")
    failed = store.get_execution(consumer.id)
    expect_fields(failed, {"state": "failed", "error": "ValueError: boom"}, "failed execution")
    expect_utc(failed.ended_at, "ended_at of a failed execution")

    expect_equal(
        [e.id for e in store.list_executions(run.id)],
        [producer.id, consumer.id],
        "list_executions(run) in registration order",
    )
    expect_equal(
        sorted_events(store.events_of_execution(producer.id)),
        sorted_events([Event(a.id, producer.id, "output", port) for port, a in outputs.items()]),
        "events_of_execution(producer)",
    )
    expect_equal(
        store.events_of_execution(consumer.id),
        [Event(examples, consumer.id, "input", "data")],
        "events_of_execution(consumer)",
    )
    expect_equal(
        sorted_events(store.events_of_artifact(examples)),
        sorted_events(
            [
                Event(examples, producer.id, "output", "examples"),
                Event(examples, consumer.id, "input", "data"),
            ]
        ),
        "events_of_artifact(examples): its producer and its consumer",
    )


def check_stopped_execution(store: MetadataStore) -> None:
    """complete_execution(..., error=...) registers the outputs and marks the execution failed.

    A node that saved its outputs, then stopped the run (validation that found anomalies):
    its outputs are live and attributed to it, and it is never a cache hit.
    """
    run = store.create_run(unique_name("pipeline"))
    key = unique_name("key")
    stopped = start_execution(store, run.id, "validate_examples", key)
    report = new_artifact(run, "validate_examples", "anomalies", type_name="Anomalies")
    outputs = store.complete_execution(
        stopped.id, {"anomalies": report}, error="AnomaliesFound: 1 error"
    )
    expect_equal(sorted(outputs), ["anomalies"], "ports of complete_execution(..., error=...)")
    anomalies = outputs["anomalies"]
    expect_fields(anomalies, {**vars(report), "state": "live"}, "a stopped execution's output")
    expect_equal(store.get_artifact(anomalies.id), anomalies, "get_artifact(id) of it")
    failed = store.get_execution(stopped.id)
    expected = {"state": "failed", "error": "AnomaliesFound: 1 error"}
    expect_fields(failed, expected, "get_execution(id) after complete_execution(..., error=...)")
    expect_utc(failed.ended_at, "ended_at of a stopped execution")
    expect_equal(
        store.events_of_execution(stopped.id),
        [Event(anomalies.id, stopped.id, "output", "anomalies")],
        "events_of_execution(stopped): its published output",
    )
    expect_equal(store.find_cached(key), None, "find_cached(key of a stopped execution)")


def check_abandon_run(store: MetadataStore) -> None:
    """abandon_run marks the run and its running executions abandoned, nothing else."""
    run = store.create_run(unique_name("pipeline"))
    running = start_execution(store, run.id, "hung")
    finished = start_execution(store, run.id, "done")
    store.complete_execution(finished.id, {})
    store.abandon_run(run.id)
    abandoned = store.get_run(run.id)
    expect_equal(abandoned.state, "abandoned", "get_run(id).state after abandon_run")
    expect_utc(abandoned.ended_at, "ended_at of an abandoned run")
    hung = store.get_execution(running.id)
    expect_equal(hung.state, "abandoned", "state of a running execution after abandon_run")
    expect_utc(hung.ended_at, "ended_at of an abandoned execution")
    expect_equal(
        store.get_execution(finished.id).state,
        "complete",
        "state of a complete execution after abandon_run",
    )


def check_interrupted(store: MetadataStore) -> None:
    """An interrupted execution and run keep that state; the key is free and never a hit.

    Ctrl-C stops a running node: the runner records it with
    `fail_execution(..., state="interrupted")` and the run with `finish_run(id, "interrupted")`.
    Running the pipeline again claims the key afresh (and resumes from its checkpoint).
    """
    run = store.create_run(unique_name("pipeline"))
    key = unique_name("key")
    stopped = start_execution(store, run.id, "train", key)
    expect_raises(
        InvalidParameterError,
        lambda: store.fail_execution(stopped.id, "x", state="running"),  # type: ignore[arg-type]
        "fail_execution(..., state='running')",
    )
    reason = "interrupted by Ctrl-C (SIGINT) after 2.0 s (it stopped)"
    store.fail_execution(stopped.id, reason, state="interrupted")
    interrupted = store.get_execution(stopped.id)
    expect_fields(
        interrupted,
        {"state": "interrupted", "error": reason},
        "get_execution(id) after fail_execution(..., state='interrupted')",
    )
    expect_utc(interrupted.ended_at, "ended_at of an interrupted execution")
    expect_raises(
        StoreError,
        lambda: store.fail_execution(stopped.id, "again", state="interrupted"),
        "fail_execution of an execution that is no longer running",
    )
    expect_equal(store.find_cached(key), None, "find_cached(key of an interrupted execution)")
    finished = store.finish_run(run.id, "interrupted")
    expect_fields(finished, {"id": run.id, "state": "interrupted"}, "finish_run(id, 'interrupted')")
    expect_utc(finished.ended_at, "ended_at of an interrupted run")
    store.abandon_run(run.id)
    expect_equal(store.get_run(run.id).state, "interrupted", "an interrupted run after abandon_run")
    again = store.create_run(run.pipeline)
    claim = store.claim_execution(
        again.id, node="train", component="train", parameters={}, cache_key=key, inputs={}
    )
    expect_equal(claim.outcome, "started", "claim_execution(key of an interrupted execution)")


CHECKS: tuple[Callable[[MetadataStore], None], ...] = (
    check_protocol,
    check_run_lifecycle,
    check_run_ids_are_unique,
    check_run_prefix_lookup,
    check_list_runs,
    check_runs_sort_by_recorded_metrics,
    check_execution_lifecycle,
    check_stopped_execution,
    check_abandon_run,
    check_interrupted,
    check_find_cached,
    check_claims,
    check_record_skipped,
    check_gc_primitives,
    check_gc_keeps_what_is_used,
    check_not_found,
    check_writes_are_atomic,
)


# Helpers ----------------------------------------------------------------------------------
def _expect_same_run(got: RunRecord, expected: RunRecord, what: str) -> None:
    expect_equal(
        (got.id, got.pipeline, got.state, got.properties, got.ended_at),
        (expected.id, expected.pipeline, expected.state, expected.properties, expected.ended_at),
        what,
    )
    if abs(got.started_at - expected.started_at) > timedelta(seconds=1):
        fail(f"{what}.started_at: expected {expected.started_at}, got {got.started_at}")
