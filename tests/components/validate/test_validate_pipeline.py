"""validate_examples in real runs: "fail" stops the run with every anomaly, "warn" records them."""

from __future__ import annotations

from collections import Counter

import pytest

from shipyard import Out, Pipeline, component
from shipyard.artifacts import (
    Anomalies,
    DatasetStatistics,
    FeatureStatistics,
    Metrics,
    Statistics,
    StringStatistics,
    ValueCount,
)
from shipyard.components import import_schema, infer_schema, validate_examples
from shipyard.errors import DataError
from tests.conftest import Workspace

ISLANDS = ["Biscoe"] * 10 + ["Dream"] * 6 + ["Torgersen"] * 4
SCHEMA = """# curated by hand
features:
  island:
    type: string
    presence: required
    domain: [Biscoe, Dream, Torgersen]
"""


def island_statistics(values: list[str]) -> DatasetStatistics:
    counts = Counter(values).most_common()
    strings = StringStatistics(len(counts), [ValueCount(v, float(n)) for v, n in counts], 6.0)
    return DatasetStatistics(
        len(values),
        {"island": FeatureStatistics("island", "string", len(values), 0, string=strings)},
    )


@component
def hand_statistics(statistics: Out[Statistics], *, eval_islands: list[str]) -> None:
    statistics.save({"train": island_statistics(ISLANDS), "eval": island_statistics(eval_islands)})


@component
def consume(anomalies: Anomalies, report: Out[Metrics]) -> None:
    report.save({"anomalies": len(anomalies.load().anomalies)})


@pytest.fixture
def workspace(workspace: Workspace) -> Workspace:
    """The shared workspace, with the pinned schema written beside the store."""
    (workspace.root / "schema.yaml").write_text(SCHEMA)
    return workspace


def pinned(workspace: Workspace, eval_islands: list[str], **options: str) -> Pipeline:
    stats = hand_statistics(eval_islands=eval_islands)
    schema = import_schema(path=str(workspace.root / "schema.yaml"))
    checked = validate_examples(
        statistics=stats.outputs.statistics, schema=schema.outputs.schema, **options
    )
    return Pipeline("validated", nodes=[consume(anomalies=checked.outputs.anomalies)])


def test_fail_stops_the_run_with_every_anomaly(workspace: Workspace) -> None:
    eval_islands = ISLANDS[:14] + ["Atlantis"] * 4 + ["Mu"] * 2
    result = workspace.run(pinned(workspace, eval_islands))
    assert not result.ok
    states = {name: node.state for name, node in result.nodes.items()}
    assert states["validate_examples"] == "failed" and states["consume"] == "skipped"
    error = result["validate_examples"].error
    assert error is not None and isinstance(error.__cause__, DataError)
    message = str(error.__cause__)
    assert "does not match its schema: 1 error and 0 warnings in eval, train." in message
    assert "[error] eval/island out_of_domain" in message and "'Atlantis', 'Mu'" in message
    anomalies = result["validate_examples"].outputs["anomalies"]  # published all the same
    assert isinstance(anomalies, Anomalies) and anomalies.properties["errors"] == 1
    assert [a.examples for a in anomalies.load().errors] == [("Atlantis", "Mu")]
    assert (anomalies.path / "report.html").read_text().startswith("<!DOCTYPE html>")
    with workspace.project() as project:
        [execution] = [
            e for e in project.store.list_executions(result.id) if e.node == "validate_examples"
        ]
        assert execution.state == "failed" and "Atlantis" in (execution.error or "")
        [event] = project.store.events_of_execution(execution.id)[-1:]
        assert (event.kind, event.name, event.artifact_id) == ("output", "anomalies", anomalies.id)
    again = workspace.run(pinned(workspace, eval_islands))  # a stopped node is never cached
    assert again["validate_examples"].state == "failed"


def test_warn_records_the_anomalies_and_goes_on(workspace: Workspace) -> None:
    eval_islands = ISLANDS[:18] + ["Atlantis"] * 2
    pipeline = pinned(workspace, eval_islands, on_anomaly="warn")
    result = workspace.run(pipeline)
    assert result.ok, [n.error for n in result.failed]
    anomalies = result["validate_examples"].outputs["anomalies"]
    assert isinstance(anomalies, Anomalies)
    report = anomalies.load()
    assert [(a.split, a.feature, a.kind) for a in report.anomalies] == [
        ("eval", "island", "out_of_domain")
    ]
    assert anomalies.properties["errors"] == 1
    assert (anomalies.path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert result["consume"].outputs["report"].load() == {"anomalies": 1.0}


def test_clean_data_passes_and_editing_the_pinned_schema_reruns(workspace: Workspace) -> None:
    assert workspace.run(pinned(workspace, ISLANDS)).ok
    again = workspace.run(pinned(workspace, ISLANDS))
    assert {n.state for n in again.nodes.values()} == {"cached"}
    (workspace.root / "schema.yaml").write_text(
        SCHEMA.replace("Torgersen]", "Torgersen, Atlantis]")
    )
    edited = workspace.run(pinned(workspace, ISLANDS))
    assert edited["import_schema"].state == "complete"
    stored = edited["import_schema"].outputs["schema"]
    assert (stored.path / "schema.yaml").read_text().startswith("# curated by hand")
    assert stored.load().features["island"].domain == ("Biscoe", "Dream", "Torgersen", "Atlantis")


def test_inferred_schema_in_a_pipeline(workspace: Workspace) -> None:
    stats = hand_statistics(eval_islands=ISLANDS[:12] + ["Atlantis"] * 8)
    schema = infer_schema(statistics=stats.outputs.statistics)
    checked = validate_examples(
        statistics=stats.outputs.statistics,
        schema=schema.outputs.schema,
        on_anomaly="warn",
        skew_splits=[],
    )
    result = workspace.run(Pipeline("inferred", nodes=[checked]))
    assert result.ok, [n.error for n in result.failed]
    inferred = result["infer_schema"].outputs["schema"]
    text = (inferred.path / "schema.yaml").read_text()
    assert text.startswith("# Shipyard schema inferred from the 'train' split (20 rows)")
    assert inferred.load().features["island"].domain == ("Biscoe", "Dream", "Torgersen")
    report = result["validate_examples"].outputs["anomalies"].load()
    assert [(a.split, a.kind, a.examples) for a in report.anomalies] == [
        ("eval", "out_of_domain", ("Atlantis",))
    ]


def test_a_broken_schema_file_fails_its_node_naming_the_line(workspace: Workspace) -> None:
    (workspace.root / "schema.yaml").write_text(SCHEMA.replace("presence", "presense"))
    result = workspace.run(pinned(workspace, ISLANDS))
    assert result["import_schema"].state == "failed"
    cause = result["import_schema"].error.__cause__  # type: ignore[union-attr]
    assert isinstance(cause, DataError)
    assert "schema.yaml: line 5, field 'features.island.presense': unknown field" in str(cause)
    assert "Did you mean 'presence'?" in str(cause)
