"""`check_store`: the conformance suite every `MetadataStore` backend must pass.

Like scikit-learn's `check_estimator`, it is public so that third-party store backends run
it in their own CI. Each check opens a store with the factory it is given, exercises one
part of the protocol and closes the store. The checks use fresh, unique pipeline names and
cache keys, so the factory may return a store that already holds data, even the same
database every time. Records that writing methods return must equal those read back.

Example:
    >>> from shipyard.testing import check_store
    >>> def test_my_store_conforms(tmp_path):
    ...     check_store(lambda: MyStore(f"mystore://{tmp_path}/db"))
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn, TypeVar

from shipyard.errors import NotFoundError
from shipyard.store.protocol import MetadataStore
from shipyard.store.records import ArtifactRecord, Event, NewArtifact

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from shipyard.store.records import JSON, ExecutionRecord, RunRecord

__all__ = ["check_store"]

T = TypeVar("T")

RUN_ID = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-[0-9a-f]{4}")
_MISSING_ID = 2_147_483_000  # an id no test store reaches, within a 32-bit integer column
_CLOCK_SKEW = timedelta(minutes=10)  # tolerated between this process and a store server
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
    _expect(isinstance(store, MetadataStore), "the store does not implement MetadataStore")
    _expect(isinstance(store.name, str) and bool(store.name), "name must be a non-empty str")
    _expect(isinstance(store.url, str), f"url must be a str, got {store.url!r}")


def check_run_lifecycle(store: MetadataStore) -> None:
    """A created run is running with a well-formed id, and finish_run ends it."""
    pipeline = _unique("pipeline")
    before = datetime.now(UTC)
    run = store.create_run(pipeline, properties={"git": "abc123", "tags": ["nightly"]})
    _expect(RUN_ID.fullmatch(run.id) is not None, f"run id {run.id!r} is not like {RUN_ID}")
    _expect_equal(run.pipeline, pipeline, "create_run(...).pipeline")
    _expect_equal(run.state, "running", "create_run(...).state")
    _expect_equal(run.ended_at, None, "create_run(...).ended_at")
    _expect_equal(run.properties, {"git": "abc123", "tags": ["nightly"]}, "run properties")
    _expect_recent(run.started_at, before, "create_run(...).started_at")
    _expect_same_run(store.get_run(run.id), run, "get_run(id)")

    finished = store.finish_run(run.id, "failed")
    _expect_fields(finished, {"id": run.id, "state": "failed"}, "finish_run(...)")
    _expect_utc(finished.ended_at, "finish_run(...).ended_at")
    _expect(
        finished.ended_at is not None and finished.ended_at >= run.started_at,
        "a run's ended_at must not be before its started_at",
    )
    _expect_equal(store.get_run(run.id).state, "failed", "get_run(id).state after finish_run")


def check_run_ids_are_unique(store: MetadataStore) -> None:
    """Runs created within the same second get distinct ids."""
    pipeline = _unique("pipeline")
    ids = [store.create_run(pipeline).id for _ in range(30)]
    _expect_equal(len(set(ids)), len(ids), "number of distinct ids among 30 new runs")


def check_run_prefix_lookup(store: MetadataStore) -> None:
    """get_run accepts a prefix matching one run and rejects an ambiguous or unknown one."""
    pipeline = _unique("pipeline")
    first, second = store.create_run(pipeline), store.create_run(pipeline)
    others = [run.id for run in store.list_runs() if run.id != first.id]
    length = next(
        n
        for n in range(1, len(first.id) + 1)
        if not any(other.startswith(first.id[:n]) for other in others)
    )
    found = _expect_found(lambda: store.get_run(first.id[:length]), "get_run(unique prefix)")
    _expect_equal(found.id, first.id, "get_run(unique prefix).id")
    pairs = enumerate(zip(first.id, second.id, strict=False))
    common = first.id[: next((i for i, (a, b) in pairs if a != b), len(first.id))]
    _expect_raises(NotFoundError, lambda: store.get_run(common), f"get_run({common!r}), ambiguous")
    _expect_raises(NotFoundError, lambda: store.get_run("1999-01-01T00-00-00-0000"), "get_run")


def check_list_runs(store: MetadataStore) -> None:
    """list_runs returns runs newest first, filtered by pipeline and limited."""
    pipeline = _unique("pipeline")
    created = [store.create_run(pipeline).id for _ in range(3)]
    newest_first = created[::-1]
    _expect_equal(
        [r.id for r in store.list_runs(pipeline=pipeline)],
        newest_first,
        "list_runs(pipeline=...), newest first",
    )
    _expect_equal(
        [r.id for r in store.list_runs(pipeline=pipeline, limit=2)],
        newest_first[:2],
        "list_runs(limit=2)",
    )
    everything = [run.id for run in store.list_runs() if run.id in created]
    _expect_equal(everything, newest_first, "the order of these runs in list_runs()")
    _expect_equal(store.list_runs(pipeline=_unique("unknown")), [], "list_runs(unknown)")


def check_execution_lifecycle(store: MetadataStore) -> None:
    """Executions start running, complete with live outputs, fail, and record their events."""
    run = store.create_run(_unique("pipeline"))
    key = _unique("key")
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
    _expect_fields(producer, expected, "start_execution(...)")
    _expect_utc(producer.started_at, "start_execution(...).started_at")
    _expect_equal(store.get_execution(producer.id), producer, "get_execution(id) while running")

    news = {
        "examples": _new_artifact(run, "ingest", "examples"),
        "report": _new_artifact(run, "ingest", "report", type_name="Report"),
    }
    outputs = store.complete_execution(producer.id, news)
    _expect_equal(sorted(outputs), ["examples", "report"], "ports of complete_execution(...)")
    for port, artifact in outputs.items():
        expected = {**vars(news[port]), "state": "live"}
        _expect_fields(artifact, expected, f"the {port!r} output of complete_execution(...)")
        _expect_utc(artifact.created_at, "ArtifactRecord.created_at")
        _expect_equal(store.get_artifact(artifact.id), artifact, "get_artifact(id)")
    done = store.get_execution(producer.id)
    _expect_equal(done.state, "complete", "get_execution(id).state after complete_execution")
    _expect_utc(done.ended_at, "ended_at of a complete execution")
    _expect(
        done.ended_at is not None and done.ended_at >= done.started_at,
        "a complete execution needs an ended_at not before its started_at",
    )

    examples = outputs["examples"].id
    consumer = store.start_execution(
        run.id,
        node="train",
        component="train",
        parameters={},
        cache_key=_unique("key"),
        inputs={"data": examples},
    )
    store.fail_execution(consumer.id, "ValueError: boom")
    failed = store.get_execution(consumer.id)
    _expect_fields(failed, {"state": "failed", "error": "ValueError: boom"}, "failed execution")
    _expect_utc(failed.ended_at, "ended_at of a failed execution")

    _expect_equal(
        [e.id for e in store.list_executions(run.id)],
        [producer.id, consumer.id],
        "list_executions(run) in registration order",
    )
    _expect_equal(
        _sorted_events(store.events_of_execution(producer.id)),
        _sorted_events([Event(a.id, producer.id, "output", port) for port, a in outputs.items()]),
        "events_of_execution(producer)",
    )
    _expect_equal(
        store.events_of_execution(consumer.id),
        [Event(examples, consumer.id, "input", "data")],
        "events_of_execution(consumer)",
    )
    _expect_equal(
        _sorted_events(store.events_of_artifact(examples)),
        _sorted_events(
            [
                Event(examples, producer.id, "output", "examples"),
                Event(examples, consumer.id, "input", "data"),
            ]
        ),
        "events_of_artifact(examples): its producer and its consumer",
    )


def check_abandon_run(store: MetadataStore) -> None:
    """abandon_run marks the run and its running executions abandoned, nothing else."""
    run = store.create_run(_unique("pipeline"))
    running = _start(store, run.id, "hung")
    finished = _start(store, run.id, "done")
    store.complete_execution(finished.id, {})
    store.abandon_run(run.id)
    abandoned = store.get_run(run.id)
    _expect_equal(abandoned.state, "abandoned", "get_run(id).state after abandon_run")
    _expect_utc(abandoned.ended_at, "ended_at of an abandoned run")
    hung = store.get_execution(running.id)
    _expect_equal(hung.state, "abandoned", "state of a running execution after abandon_run")
    _expect_utc(hung.ended_at, "ended_at of an abandoned execution")
    _expect_equal(
        store.get_execution(finished.id).state,
        "complete",
        "state of a complete execution after abandon_run",
    )


def check_find_cached(store: MetadataStore) -> None:
    """find_cached returns the newest complete execution whose outputs are all live."""
    key = _unique("key")
    _expect_equal(store.find_cached(key), None, "find_cached(unknown key)")
    run = store.create_run(_unique("pipeline"))
    older = _complete(store, run, "train", key)
    newer = _complete(store, run, "train", key)
    store.fail_execution(_start(store, run.id, "train", key).id, "boom")
    _start(store, run.id, "train", key)  # still running: never a cache hit
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
    _expect_fields(cached, {**expected, "cache_key": key}, "record_execution(...)")
    _expect_utc(cached.ended_at, "ended_at of a recorded execution")
    _expect_equal(store.get_execution(cached.id), cached, "get_execution(recorded id)")
    _expect_equal(
        store.events_of_execution(cached.id),
        [Event(outputs["model"].id, cached.id, "output", "model")],
        "events of a cached execution: the producer's artifacts",
    )
    _expect_cache_hit(store, key, newer, "after a cached execution (which is never a hit)")

    store.mark_artifacts_deleted([outputs["model"].id])
    _expect_cache_hit(store, key, older, "after the newest hit's output was deleted")
    store.mark_artifacts_deleted([older[1]["model"].id])
    _expect_equal(store.find_cached(key), None, "find_cached when every output is deleted")


def check_record_skipped(store: MetadataStore) -> None:
    """record_execution registers a skipped execution with its error and no events."""
    run = store.create_run(_unique("pipeline"))
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
    _expect_fields(skipped, expected, "record_execution(state='skipped')")
    _expect_equal(store.list_executions(run.id), [skipped], "list_executions(run)")
    _expect_equal(store.events_of_execution(skipped.id), [], "events of a skipped execution")


def check_gc_primitives(store: MetadataStore) -> None:
    """Artifacts are attributed to the run that produced them and can be marked deleted."""
    first = store.create_run(_unique("pipeline"))
    raw = _complete(store, first, "ingest")[1]["model"]
    second = store.create_run(first.pipeline)
    trained = store.start_execution(
        second.id,
        node="train",
        component="train",
        parameters={},
        cache_key=_unique("key"),
        inputs={"data": raw.id},
    )
    model = store.complete_execution(trained.id, {"model": _new_artifact(second, "train")})
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

    _expect_equal(
        [a.id for a in store.list_artifacts(run_id=first.id)],
        [raw.id],
        "list_artifacts(run_id=producer run)",
    )
    _expect_equal(
        store.list_artifacts(run_id=third.id),
        [],
        "list_artifacts(run_id=a run that only re-used artifacts)",
    )
    _expect_equal(store.artifacts_used_by_runs([first.id]), {raw.id}, "used by the first run")
    _expect_equal(
        store.artifacts_used_by_runs([second.id]),
        {raw.id, model_id},
        "artifacts_used_by_runs(run that read one and wrote one)",
    )
    _expect_equal(
        store.artifacts_used_by_runs([third.id]),
        {raw.id, model_id},
        "artifacts_used_by_runs(run with a cached execution)",
    )
    _expect_equal(store.artifacts_used_by_runs([]), set(), "artifacts_used_by_runs([])")

    store.mark_artifacts_deleted([raw.id])
    store.mark_artifacts_deleted([raw.id])  # idempotent
    _expect_equal(store.get_artifact(raw.id).state, "deleted", "state after mark_artifacts_deleted")
    deleted = {a.id for a in store.list_artifacts(state="deleted")}
    live = {a.id for a in store.list_artifacts(state="live")}
    _expect(raw.id in deleted and raw.id not in live, "list_artifacts(state=...) ignores deletion")
    _expect(model_id in live and model_id not in deleted, "an untouched artifact must stay live")
    _expect_equal(
        len(store.events_of_artifact(raw.id)), 3, "events of a deleted artifact (kept for lineage)"
    )


def check_not_found(store: MetadataStore) -> None:
    """Every lookup of an unknown run, execution or artifact raises NotFoundError."""
    run = store.create_run(_unique("pipeline"))
    gone, missing = "1999-01-01T00-00-00-0000", _MISSING_ID
    calls: dict[str, Callable[[], object]] = {
        "get_run": lambda: store.get_run(gone),
        "finish_run": lambda: store.finish_run(gone, "complete"),
        "abandon_run": lambda: store.abandon_run(gone),
        "start_execution(unknown run)": lambda: _start(store, gone, "n"),
        "start_execution(unknown input)": lambda: store.start_execution(
            run.id, node="n", component="c", parameters={}, cache_key="k", inputs={"x": missing}
        ),
        "complete_execution": lambda: store.complete_execution(missing, {}),
        "fail_execution": lambda: store.fail_execution(missing, "boom"),
        "record_execution(unknown run)": lambda: _record(store, gone),
        "record_execution(unknown output)": lambda: _record(store, run.id, outputs={"m": missing}),
        "record_execution(unknown cached_from)": lambda: _record(store, run.id, cached=missing),
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
        _expect_raises(NotFoundError, call, what)


def check_writes_are_atomic(store: MetadataStore) -> None:
    """A write that fails leaves no partial effect behind."""
    run = store.create_run(_unique("pipeline"))
    keep = _complete(store, run, "ingest")[1]["model"]
    before = store.list_executions(run.id)
    _expect_raises(
        NotFoundError,
        lambda: store.start_execution(
            run.id,
            node="n",
            component="c",
            parameters={},
            cache_key="k",
            inputs={"ok": keep.id, "gone": _MISSING_ID},
        ),
        "start_execution(unknown input)",
    )
    _expect_raises(
        NotFoundError,
        lambda: _record(store, run.id, outputs={"m": _MISSING_ID}),
        "record_execution(unknown output)",
    )
    _expect_equal(store.list_executions(run.id), before, "executions after failed writes")
    _expect_raises(
        NotFoundError,
        lambda: store.mark_artifacts_deleted([keep.id, _MISSING_ID]),
        "mark_artifacts_deleted([known, unknown])",
    )
    _expect_equal(
        store.get_artifact(keep.id).state,
        "live",
        "state of a known artifact after mark_artifacts_deleted failed",
    )


CHECKS: tuple[Callable[[MetadataStore], None], ...] = (
    check_protocol,
    check_run_lifecycle,
    check_run_ids_are_unique,
    check_run_prefix_lookup,
    check_list_runs,
    check_execution_lifecycle,
    check_abandon_run,
    check_find_cached,
    check_record_skipped,
    check_gc_primitives,
    check_not_found,
    check_writes_are_atomic,
)


# Helpers ----------------------------------------------------------------------------------
def _unique(prefix: str) -> str:
    return f"check-{prefix}-{uuid.uuid4().hex[:12]}"


def _new_artifact(
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


def _start(store: MetadataStore, run_id: str, node: str, key: str | None = None) -> ExecutionRecord:
    return store.start_execution(
        run_id, node=node, component=node, parameters={}, cache_key=key or _unique("key"), inputs={}
    )


def _complete(
    store: MetadataStore, run: RunRecord, node: str, key: str | None = None
) -> tuple[ExecutionRecord, dict[str, ArtifactRecord]]:
    execution = _start(store, run.id, node, key)
    outputs = store.complete_execution(execution.id, {"model": _new_artifact(run, node)})
    return store.get_execution(execution.id), outputs


def _record(
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


def _sorted_events(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.execution_id, e.kind, e.name, e.artifact_id))


def _fail(message: str) -> NoReturn:
    raise AssertionError(message)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        _fail(message)


def _expect_equal(got: object, expected: object, what: str) -> None:
    if got != expected:
        _fail(f"{what}: expected {expected!r}, got {got!r}")


def _expect_fields(record: object, expected: Mapping[str, object], what: str) -> None:
    got = {name: getattr(record, name) for name in expected}
    if got != expected:
        wrong = {name: got[name] for name in expected if got[name] != expected[name]}
        right = {name: expected[name] for name in wrong}
        _fail(f"{what}: expected fields {right!r}, got {wrong!r}")


def _expect_raises(error: type[Exception], call: Callable[[], object], what: str) -> None:
    try:
        result = call()
    except error:
        return
    except Exception as exc:
        raise AssertionError(f"{what} must raise {error.__name__}; it raised {exc!r}") from exc
    _fail(f"{what} must raise {error.__name__}; it returned {result!r}")


def _expect_found(call: Callable[[], T], what: str) -> T:
    try:
        return call()
    except NotFoundError as exc:
        raise AssertionError(f"{what} must find what it was asked for; it raised {exc!r}") from exc


def _expect_utc(value: datetime | None, what: str) -> None:
    if value is None or value.utcoffset() != timedelta(0):
        _fail(f"{what} must be a timezone-aware UTC datetime, got {value!r}")


def _expect_recent(value: datetime, since: datetime, what: str) -> None:
    _expect_utc(value, what)
    if not since - _CLOCK_SKEW <= value <= datetime.now(UTC) + _CLOCK_SKEW:
        _fail(f"{what} must be about now ({since.isoformat()}), got {value.isoformat()}")


def _expect_same_run(got: RunRecord, expected: RunRecord, what: str) -> None:
    _expect_equal(
        (got.id, got.pipeline, got.state, got.properties, got.ended_at),
        (expected.id, expected.pipeline, expected.state, expected.properties, expected.ended_at),
        what,
    )
    if abs(got.started_at - expected.started_at) > timedelta(seconds=1):
        _fail(f"{what}.started_at: expected {expected.started_at}, got {got.started_at}")


def _expect_cache_hit(
    store: MetadataStore,
    key: str,
    expected: tuple[ExecutionRecord, dict[str, ArtifactRecord]],
    when: str,
) -> None:
    hit = store.find_cached(key)
    if hit is None:
        _fail(f"find_cached({key!r}) {when}: expected execution {expected[0].id}, got None")
    execution, outputs = hit
    _expect_equal(execution.id, expected[0].id, f"find_cached(...) {when}: the execution id")
    _expect_equal(execution.state, "complete", f"find_cached(...) {when}: the execution state")
    _expect_equal(outputs, expected[1], f"find_cached(...) {when}: the outputs by port")
