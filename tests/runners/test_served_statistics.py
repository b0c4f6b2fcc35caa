"""The served version's training statistics, found through lineage, as monitoring's reference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest

from shipyard.artifacts import Statistics
from shipyard.components.statistics import compute_dataset_statistics
from shipyard.errors import NotFoundError
from shipyard.monitoring.monitor import MonitorOptions
from shipyard.runners import Project
from shipyard.runners.monitor_runs import monitor
from shipyard.runners.served_statistics import served_statistics
from shipyard.store.records import NewArtifact
from tests.monitoring.logs import features, write_log
from tests.monitoring.runs import open_project

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.store.records import ArtifactRecord


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with open_project(tmp_path) as opened:
        yield opened


def _pipeline(project: Project, version: int) -> None:
    """The tabular pipeline's lineage, by hand: the statistics are only read by validation."""
    store = project.store
    run = store.create_run("taxi")

    def execute(
        node: str, inputs: dict[str, ArtifactRecord], outputs: dict[str, str], **props: Any
    ) -> dict[str, ArtifactRecord]:
        execution = store.start_execution(
            run.id,
            node=node,
            component=node,
            parameters={},
            cache_key=f"{node}-{run.id}",
            inputs={port: record.id for port, record in inputs.items()},
        )
        new = {
            port: NewArtifact(
                type_name,
                project.storage.uri_for("taxi", run.id, node, port),
                "fingerprint",
                f"taxi/{run.id}/{node}/{port}",
                dict(props),
            )
            for port, type_name in outputs.items()
        }
        return store.complete_execution(execution.id, new)

    raw = execute("ingest", {}, {"examples": "Examples"})["examples"]
    statistics = execute("compute_statistics", {"examples": raw}, {"statistics": "Statistics"})
    Statistics(statistics["statistics"].uri).save(
        {
            "train": compute_dataset_statistics(pa.table(features(5000, seed=1))),
            "eval": compute_dataset_statistics(pa.table(features(100, seed=2, shift=3.0))),
        }
    )
    schema = execute("import_schema", {}, {"schema": "Schema"})["schema"]
    execute("validate", {"statistics": statistics["statistics"], "schema": schema}, {})
    transformed = execute(
        "transform", {"examples": raw, "schema": schema}, {"examples": "Examples"}
    )["examples"]
    model = execute("train", {"examples": transformed}, {"model": "Model"})["model"]
    execute("push", {"model": model}, {"pushed": "PushedModel"}, pushed=True, name="taxi",
            version=version, path="models/taxi/3")  # fmt: skip


def test_the_statistics_of_the_served_versions_raw_examples_are_found(project: Project) -> None:
    _pipeline(project, 3)
    found = served_statistics(project, "taxi", 3)
    assert found.statistics.num_rows == 5000  # the train split
    assert "compute_statistics/statistics, split 'train') of taxi v3" in found.source
    assert found.source.startswith(f"statistics #{found.key} ")
    with pytest.raises(NotFoundError, match=r"No push of model 'taxi' version 4 .* --reference"):
        served_statistics(project, "taxi", 4)


def test_monitor_without_a_reference_uses_the_served_versions_statistics(
    project: Project, tmp_path: Path
) -> None:
    _pipeline(project, 3)
    logs = tmp_path / "logs" / "taxi" / "3"
    write_log(logs, 0, seed=5, shift=0.5)
    options = MonitorOptions(
        logs=str(logs),
        name="taxi",
        find_reference=lambda model, version: served_statistics(project, model, version),
    )
    report = monitor(project.store, project.storage, options)
    assert report.reference.source.startswith("statistics #")
    assert report.reference.rows == 5000
    assert {f.column for f in report.windows[0].findings} == {"x"}
