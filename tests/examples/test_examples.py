"""The examples run as documented: taxi completes on the latest span; the drift demo stops
at validation with the anomalies span 2 was made to have."""

from __future__ import annotations

from pathlib import Path

import pytest

import shipyard
from shipyard.errors import AnomaliesFound

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
        monkeypatch.delenv(var, raising=False)


def test_taxi_ingests_the_latest_span_and_validates() -> None:
    result = shipyard.run(EXAMPLES / "taxi" / "pipeline.py", progress=False)
    assert result.ok, [n.error for n in result.failed]
    examples = result["ingest"].outputs["examples"]
    assert examples.properties["span"] == 2
    assert sum(examples.properties["rows"].values()) == 5000
    report = result["validate_examples"].outputs["anomalies"].load()
    assert not report.errors


def test_an_older_span_is_a_parameter_away() -> None:
    result = shipyard.run(EXAMPLES / "taxi" / "pipeline.py", params={"span": 1}, progress=False)
    assert result.ok
    assert result["ingest"].outputs["examples"].properties["span"] == 1


def test_drift_demo_stops_at_validation_with_the_anomalies() -> None:
    result = shipyard.run(EXAMPLES / "taxi" / "drift.py", progress=False)
    assert not result.ok
    failed = result["validate_examples"]
    assert failed.state == "failed" and failed.error is not None
    assert isinstance(failed.error.__cause__, AnomaliesFound)
    message = str(failed.error.__cause__)
    assert "'distance' drifted from the baseline" in message
    assert "'Shipyard Cabs'" in message
    assert "'local' is required but missing" in message
    assert "skews between" not in message  # train and eval of one span are alike
    assert {n.state for name, n in result.nodes.items() if name != "validate_examples"} == {
        "complete"
    }
