"""A monitor's runs in the store: one process at a time, a MonitoringReport artifact per run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.compute as pc
import pytest

from shipyard.artifacts import MonitoringReport
from shipyard.errors import InvalidParameterError
from shipyard.monitoring.monitor import MonitorOptions
from shipyard.runners import Project
from shipyard.runners.monitor_runs import monitor, monitor_run
from shipyard.runners.queries import lineage, show_artifact
from tests.cli.imported import loaded, modules_after
from tests.monitoring.logs import T0, write_log, write_reference
from tests.monitoring.runs import open_project

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with open_project(tmp_path) as opened:
        yield opened


@pytest.fixture
def options(tmp_path: Path) -> MonitorOptions:
    logs = tmp_path / "logs" / "taxi" / "3"
    write_log(logs, 0, seed=1, shift=0.5)
    write_log(logs, 1, seed=2)
    reference = write_reference(tmp_path / "reference.parquet")
    return MonitorOptions(logs=str(logs), name="taxi", reference=str(reference))


def test_each_run_records_its_report_artifact_as_the_monitor_s_output(
    project: Project, options: MonitorOptions
) -> None:
    report = monitor(project.store, project.storage, options)
    assert report.artifact is not None and report.store_run is not None
    record = project.store.get_artifact(report.artifact)
    assert record.type_name == "MonitoringReport" and record.state == "live"
    assert record.name == f"monitor:taxi/{report.store_run}/monitor/report"
    folder = Path(record.uri).relative_to(project.storage.root).parts
    assert folder[0].startswith("monitor_taxi-") and folder[1:] == (
        report.store_run,
        "monitor",
        "report",
    )
    assert record.properties["windows"] == 2 and record.properties["alerts_firing"] == 0
    run = project.store.get_run(report.store_run)
    assert run.pipeline == "monitor:taxi" and run.state == "complete"
    artifact = MonitoringReport(record.uri)
    summary = artifact.summary()
    assert summary == json.loads(json.dumps(report.to_json() | {"artifact": None}))
    figures = artifact.figures()
    assert figures.column_names == [
        "window_start", "window_end", "complete", "column", "measure", "value",
    ]  # fmt: skip
    drift = figures.filter(pc.equal(figures["measure"], "drift"))
    assert sorted(set(drift["column"].to_pylist())) == [
        "class_ids",
        "color",
        "probabilities",
        "x",
        "y",
    ]
    x = drift.filter(pc.equal(drift["column"], "x"))["value"].to_pylist()
    assert x == [w.columns["x"].drift for w in report.windows]
    rows = figures.filter(pc.equal(figures["measure"], "rows"))
    assert rows["column"].to_pylist() == ["*", "*"] and rows["value"].to_pylist() == [3000, 3000]
    assert rows["window_start"][0].as_py().timestamp() * 1e6 == T0
    found = figures.filter(pc.equal(figures["measure"], "finding.drift"))
    assert found["column"].to_pylist() == ["x"]
    shown = show_artifact(project, report.artifact)
    assert shown["producer"]["node"] == "monitor"
    assert shown["preview"]["alerts_firing"] == []
    graph = lineage(project, report.artifact)
    assert graph["upstream"]["execution"]["node"] == "monitor"


def test_the_next_run_starts_from_the_newest_report_s_state(
    project: Project, options: MonitorOptions
) -> None:
    monitor(project.store, project.storage, options)
    again = monitor(project.store, project.storage, options)
    assert again.files_read == 0 and again.files_known == 2 and again.windows == []
    assert again.artifact is not None  # every run is recorded, with what it read


def test_a_second_process_of_one_monitor_is_refused_while_the_first_runs(
    project: Project, options: MonitorOptions
) -> None:
    store, storage = project.store, project.storage
    with monitor_run(store, storage, "taxi"):
        with pytest.raises(InvalidParameterError, match="The monitor 'taxi' is running already"):
            monitor(store, storage, options)
    refused = store.list_runs(pipeline="monitor:taxi")[0]
    assert refused.state == "failed"
    report = monitor(store, storage, options)  # the claim was given back
    assert report.files_read == 2


def test_a_monitor_whose_process_died_leaves_its_claim_to_the_next(
    project: Project, options: MonitorOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, storage = project.store, project.storage
    dead = store.create_run("monitor:taxi", properties={"monitor": "taxi", "pid": 1})
    claim = store.claim_execution(
        dead.id, node="monitor", component="shipyard.monitor", parameters={"monitor": "taxi"},
        cache_key="monitor:taxi", inputs={}, reuse=False,
    )  # fmt: skip
    assert claim.outcome == "started"  # then killed: the run stays "running"
    monkeypatch.setattr("shipyard.runners.claims.run_is_dead", lambda run: run.id == dead.id)
    report = monitor(store, storage, options)
    assert report.files_read == 2
    assert store.get_run(dead.id).state == "abandoned"


def test_a_run_that_fails_records_no_state(
    project: Project, options: MonitorOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*args: object, **kwargs: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("shipyard.monitoring.monitor.count_rows", fails)
    with pytest.raises(RuntimeError):
        monitor(project.store, project.storage, options)
    run = project.store.list_runs(pipeline="monitor:taxi")[0]
    assert run.state == "failed"
    assert project.store.list_artifacts(pipeline="monitor:taxi") == []
    monkeypatch.undo()
    assert monitor(project.store, project.storage, options).files_read == 2


def test_the_monitor_s_modules_load_neither_the_runner_nor_the_dsl() -> None:
    modules = modules_after(
        "from shipyard.runners import Project\n"
        "import shipyard.cli.monitor, shipyard.runners.monitor_runs\n"
        "import shipyard.components.ingest.dataset, shipyard.components.statistics.dataset"
    )
    assert {"shipyard.runners.project", "shipyard.runners.monitor_runs"} <= modules
    assert loaded(modules, "shipyard.dsl", "shipyard.runners.api", "shipyard.engines") == []
