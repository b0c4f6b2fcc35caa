"""Runs listed by a query: filtered, sorted (by start, duration or a metric recorded when the
run ended) and paged in SQL, on SQLite and PostgreSQL; and the outputs of a page of runs read
in one query."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.errors import InvalidParameterError
from shipyard.store import RunQuery
from shipyard.store.records import NewArtifact
from shipyard.store.sql import SqlStore

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = SqlStore(store_url)
    yield opened
    opened.close()


def _run(
    store: SqlStore,
    pipeline: str,
    accuracy: float | None,
    *,
    lr: float,
    finish: str | None = "complete",
    cached_from: int | None = None,
) -> tuple[str, int | None]:
    """A run with one evaluate node whose evaluation holds `accuracy` (none if None), which
    finish_run records (a cached run records the accuracy of the evaluation it reuses)."""
    run = store.create_run(pipeline, properties={"parameters": {"lr": lr, "tag": f"T{lr}"}})
    produced = None
    metrics = {} if accuracy is None else {"accuracy": accuracy}
    if cached_from is not None:
        store.record_execution(
            run.id, node="evaluate", component="evaluate", parameters={}, cache_key="k",
            state="cached", inputs={}, outputs={"evaluation": cached_from},
        )  # fmt: skip
    elif accuracy is not None:
        execution = store.start_execution(
            run.id, node="evaluate", component="evaluate", parameters={},
            cache_key=f"k{run.id}", inputs={},
        )  # fmt: skip
        outputs = store.complete_execution(
            execution.id,
            {
                "evaluation": NewArtifact(
                    "ModelEvaluation", f"file:///e/{run.id}", "f", f"{pipeline}/{run.id}/e",
                    {"metrics": {"accuracy": accuracy}},
                ),
                "statistics": NewArtifact("Statistics", f"file:///s/{run.id}", "f", "s", {}),
            },
        )  # fmt: skip
        produced = outputs["evaluation"].id
    if finish is not None:
        store.finish_run(run.id, finish, metrics=metrics)  # type: ignore[arg-type]
    return run.id, produced


def test_runs_sort_by_a_recorded_metric_with_runs_without_it_last(store: SqlStore) -> None:
    low, _ = _run(store, "a", 0.5, lr=0.1)
    high, evaluation = _run(store, "a", 0.9, lr=0.2)
    missing, _ = _run(store, "b", None, lr=0.3)
    cached, _ = _run(store, "a", 0.9, lr=0.4, cached_from=evaluation)
    running, _ = _run(store, "a", 1.0, lr=0.5, finish=None)  # nothing recorded yet
    best_first = store.find_runs(RunQuery(order_by="metrics.accuracy", limit=10))
    assert [r.id for r in best_first.runs] == [cached, high, low, running, missing]  # ties: newest
    worst_first = store.find_runs(RunQuery(order_by="metrics.accuracy", descending=False))
    assert [r.id for r in worst_first.runs][:3] == [low, high, cached]
    assert worst_first.runs[-1].id == running and best_first.total == 5
    only_a = store.find_runs(RunQuery(pipeline="a", order_by="metrics.accuracy", limit=2))
    assert [r.id for r in only_a.runs] == [cached, high] and only_a.total == 4


def test_finishing_a_run_again_replaces_its_metrics(store: SqlStore) -> None:
    first, _ = _run(store, "a", 0.5, lr=0.1)
    second, _ = _run(store, "a", 0.7, lr=0.2)
    store.finish_run(first, "complete", metrics={"accuracy": 0.8, "auc": 0.6})
    best = store.find_runs(RunQuery(order_by="metrics.accuracy")).runs
    assert [r.id for r in best] == [first, second]
    store.finish_run(first, "complete", metrics={})
    assert [r.id for r in store.find_runs(RunQuery(order_by="metrics.accuracy")).runs] == [
        second,
        first,
    ]


def test_metrics_that_are_not_finite_numbers_are_refused_naming_each(store: SqlStore) -> None:
    run = store.create_run("a")
    with pytest.raises(InvalidParameterError) as caught:
        store.finish_run(
            run.id, "complete", metrics={"ok": 1.0, "loss": float("nan"), "x" * 300: 2.0}
        )
    assert "'loss'" in str(caught.value) and "nan" in str(caught.value)
    assert store.get_run(run.id).state == "running"  # nothing was changed


def test_runs_filter_by_pipeline_state_and_text_and_page_with_the_total(store: SqlStore) -> None:
    ids = [_run(store, "a", 0.1 * i, lr=i)[0] for i in range(1, 6)]
    running, _ = _run(store, "b", None, lr=9, finish=None)
    page = store.find_runs(RunQuery(pipeline="a", offset=1, limit=2))
    assert [r.id for r in page.runs] == [ids[3], ids[2]] and page.total == 5
    assert store.find_runs(RunQuery(pipeline="a", offset=4, limit=2)).total == 5
    assert store.find_runs(RunQuery(pipeline="a", offset=9, limit=2)).total == 5
    assert [r.id for r in store.find_runs(RunQuery(states=("running",))).runs] == [running]
    assert [r.id for r in store.find_runs(RunQuery(search="t3")).runs] == [ids[2]]  # any case
    assert store.find_runs(RunQuery(search="100%_")).total == 0  # LIKE wildcards are text
    longest = store.find_runs(RunQuery(order_by="duration_s", limit=10)).runs
    assert longest[-1].id == running  # no end yet: last either way
    durations = [r.duration_s for r in longest[:-1]]
    assert durations == sorted(durations, reverse=True)  # type: ignore[type-var]


def test_an_invalid_query_names_every_problem(store: SqlStore) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        store.find_runs(RunQuery(offset=-1, states=("done",), order_by="size"))
    message = str(caught.value)
    assert "'offset'" in message and "'done'" in message and "'size'" in message


def test_outputs_of_runs_are_read_by_type_in_one_call(store: SqlStore) -> None:
    first, evaluation = _run(store, "a", 0.5, lr=1)
    cached, _ = _run(store, "a", None, lr=2, cached_from=evaluation)
    outputs = store.outputs_of_runs([first, cached, "no-such-run"], type_names=["ModelEvaluation"])
    assert [(o.run_id, o.node, o.port, o.artifact.id) for o in outputs] == [
        (first, "evaluate", "evaluation", evaluation),
        (cached, "evaluate", "evaluation", evaluation),
    ]
