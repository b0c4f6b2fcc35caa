"""`run_node`: one node of a run per call (what each compiled Kubeflow task does), and how
it ends when something went wrong: a failed node, a retried task, a dead pod, a wrong run, a
task run out of order, a stop beside a sibling's staging."""

from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING

import pytest

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Metrics
from shipyard.dsl.context import current_task
from shipyard.errors import InvalidParameterError
from shipyard.runners import Project
from shipyard.runners.run_node import finish_run, run_node
from shipyard.store import RunQuery
from tests.runners.components import CALLS, double, fail, source

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.store import ExecutionRecord, MetadataStore


@component
def stops_itself(inp: Metrics, out: Out[Metrics]) -> None:
    """Receives the SIGTERM a pod gets when it is deleted, and stops at the next check."""
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(200):
        current_task().check_interrupted()
        time.sleep(0.05)
    out.save({"v": 0.0})


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with Project.open(
        store=f"sqlite:///{tmp_path / 'store.db'}", artifact_root=str(tmp_path / "artifacts")
    ) as opened:
        yield opened


def chain(middle: object = double, name: str = "chain") -> Pipeline:
    first = source(value=3.0)
    second = middle(inp=first.outputs.out)  # type: ignore[operator]
    third = double(inp=second.outputs.out).with_options(name="last")
    return Pipeline(name, nodes=[first, second, third])


def execute(project: Project, pipeline: Pipeline, node: str, run_id: str = "job-1") -> object:
    return run_node(pipeline, node, run_id=run_id, store=project.store, storage=project.storage)


def executions(store: MetadataStore, run_id: str = "job-1") -> list[ExecutionRecord]:
    return sorted(store.list_executions(run_id), key=lambda record: record.id)


def test_the_nodes_of_a_run_one_per_call_complete_the_run(project: Project) -> None:
    pipeline = chain()
    for node in ("source", "double"):
        execute(project, pipeline, node)
        assert project.store.get_run("job-1").state == "running"
    outcome = execute(project, pipeline, "last")
    assert outcome.state == "complete"  # type: ignore[attr-defined]
    assert Metrics(outcome.outputs["out"].uri).load() == {"v": 12.0}  # type: ignore[attr-defined]
    assert project.store.get_run("job-1").state == "complete"


def test_the_task_that_ends_a_run_records_its_metrics_for_sorting(project: Project) -> None:
    for run_id, value in (("job-1", 5.0), ("job-2", 3.0)):
        first = source(value=value)
        pipeline = Pipeline("pair", nodes=[first, double(inp=first.outputs.out)])
        for node in ("source", "double"):
            execute(project, pipeline, node, run_id)
    best = project.store.find_runs(RunQuery(order_by="metrics.v"))
    assert [run.id for run in best.runs] == ["job-1", "job-2"]  # v of the first output: 5, 3


def test_a_failed_node_skips_the_nodes_after_it_and_fails_the_run(project: Project) -> None:
    pipeline = chain(fail)
    execute(project, pipeline, "source")
    outcome = execute(project, pipeline, "fail")
    assert outcome.state == "failed" and "ValueError: boom" in str(outcome.error)  # type: ignore[attr-defined]
    states = {record.node: record.state for record in executions(project.store)}
    assert states == {"source": "complete", "fail": "failed", "last": "skipped"}
    assert project.store.get_run("job-1").state == "failed"


def test_a_retried_task_whose_node_completed_returns_that_outcome(project: Project) -> None:
    pipeline = chain()
    CALLS.clear()
    first = execute(project, pipeline, "source")
    again = execute(project, pipeline, "source")
    assert CALLS["source"] == 1
    assert again.state == "complete"  # type: ignore[attr-defined]
    assert again.execution_id == first.execution_id  # type: ignore[attr-defined]
    assert again.outputs["out"].uri == first.outputs["out"].uri  # type: ignore[attr-defined]
    assert len(executions(project.store)) == 1


def test_a_node_left_running_by_a_dead_pod_is_interrupted_then_executed(
    project: Project,
) -> None:
    pipeline = chain()
    execute(project, pipeline, "source")
    dead = project.store.start_execution(
        "job-1", node="double", component="double", parameters={}, cache_key="k", inputs={}
    )
    outcome = execute(project, pipeline, "double")
    assert outcome.state == "complete"  # type: ignore[attr-defined]
    records = {record.id: record for record in executions(project.store)}
    assert records[dead.id].state == "interrupted"
    assert "its task was started again" in str(records[dead.id].error)
    assert records[outcome.execution_id].state == "complete"  # type: ignore[attr-defined]


def test_joining_a_run_of_another_pipeline_is_refused(project: Project) -> None:
    execute(project, chain(), "source")
    with pytest.raises(InvalidParameterError, match="that run is of pipeline 'chain', not 'other'"):
        execute(project, chain(name="other"), "source")


def test_an_upstream_node_not_yet_executed_is_a_clear_error(project: Project) -> None:
    with pytest.raises(
        InvalidParameterError,
        match=r"--node 'double': upstream node 'source' has no execution in run job-1; run "
        r"each node after the nodes it reads from",
    ):
        execute(project, chain(), "double")


def test_a_stopped_task_keeps_the_staging_of_its_siblings(project: Project) -> None:
    pipeline = chain(stops_itself)
    execute(project, pipeline, "source")
    sibling = project.storage.new_staging("job-1")  # another task of the run, same machine
    (sibling / "part.bin").write_bytes(b"half")
    outcome = execute(project, pipeline, "stops_itself")
    assert outcome.state == "interrupted"  # type: ignore[attr-defined]
    assert (sibling / "part.bin").read_bytes() == b"half"
    assert project.store.get_run("job-1").state == "interrupted"  # `last` skipped


def test_finishing_a_run_whose_dag_stopped_early(project: Project) -> None:
    pipeline = chain()
    execute(project, pipeline, "source")
    project.store.start_execution(
        "job-1", node="double", component="double", parameters={}, cache_key="k", inputs={}
    )  # its pod died, and the orchestrator started nothing after it
    assert finish_run(pipeline, run_id="job-1", store=project.store) == "interrupted"
    states = {record.node: record.state for record in executions(project.store)}
    assert states == {"source": "complete", "double": "interrupted", "last": "skipped"}
    assert project.store.get_run("job-1").state == "interrupted"
    assert finish_run(pipeline, run_id="job-1", store=project.store) == "interrupted"  # again


def test_finishing_a_run_no_task_started_records_it_failed(project: Project) -> None:
    assert finish_run(chain(), run_id="job-2", store=project.store) == "failed"
    run = project.store.get_run("job-2")
    assert run.state == "failed" and run.pipeline == "chain"
    assert {record.state for record in executions(project.store, "job-2")} == {"skipped"}
