"""Runs listed by a query: filtered, sorted (by start, duration or a metric) and paged in SQL,
on SQLite and PostgreSQL; and the outputs of a page of runs read in one query."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.errors import InvalidParameterError
from shipyard.store import RunQuery
from shipyard.store.records import NewArtifact
from shipyard.store.sql import SqlStore

if TYPE_CHECKING:
    from collections.abc import Iterator

SOURCES: dict[str, str | None] = {"ModelEvaluation": "metrics", "Metrics": None}


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
    """A run with one evaluate node whose evaluation holds `accuracy` (none if None)."""
    run = store.create_run(pipeline, properties={"parameters": {"lr": lr, "tag": f"T{lr}"}})
    produced = None
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
        store.finish_run(run.id, finish)  # type: ignore[arg-type]
    return run.id, produced


def test_runs_sort_by_a_metric_with_runs_without_it_last_and_cached_outputs_counted(
    store: SqlStore,
) -> None:
    low, _ = _run(store, "a", 0.5, lr=0.1)
    high, evaluation = _run(store, "a", 0.9, lr=0.2)
    missing, _ = _run(store, "b", None, lr=0.3)
    cached, _ = _run(store, "a", None, lr=0.4, cached_from=evaluation)
    best_first = store.find_runs(
        RunQuery(order_by="metrics.accuracy", metric_sources=SOURCES, limit=10)
    )
    assert [r.id for r in best_first.runs] == [cached, high, low, missing]  # ties: newest first
    worst_first = store.find_runs(
        RunQuery(order_by="metrics.accuracy", descending=False, metric_sources=SOURCES)
    )
    assert [r.id for r in worst_first.runs][:2] == [low, high]
    assert worst_first.runs[-1].id == missing and best_first.total == 4


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
