"""The server's own request log, monitored: its columns are understood, none is a feature."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.monitoring.monitor import MonitorOptions
from shipyard.serving.config import BatchingOptions, ModelConfig, RequestLogOptions
from tests.monitoring.runs import monitored
from tests.serving.conftest import PENGUINS, add_version, penguin_rows, trained  # noqa: F401
from tests.serving.server import RunningServer

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Project

pytestmark = pytest.mark.slow


def test_the_servers_request_log_is_monitored_against_the_training_data(
    trained: dict[str, Path],  # noqa: F811
    tmp_path: Path,
    project: Project,
) -> None:
    add_version(tmp_path / "models" / "penguins", 2, trained["penguins"])
    logs = tmp_path / "logs"
    rows = penguin_rows(every=5)
    log = RequestLogOptions(logs, sample=1.0, flush_s=3600)
    models = [ModelConfig("penguins", tmp_path / "models" / "penguins")]
    with RunningServer(models, request_log=log, batching=BatchingOptions()) as server:
        assert server.post("/v1/models/penguins:predict", {"instances": rows})[0] == 200
        assert server.post("/v1/models/penguins:classify", {"examples": rows[:50]})[0] == 200

    options = MonitorOptions(
        logs=str(logs), name="penguins", reference=str(PENGUINS), window_s=86400, min_rows=50
    )
    report = monitored(options, project)
    assert report.skipped == [] and report.files_read >= 1
    assert report.new_columns == []  # timestamp, model, version, request_id, outputs
    assert report.absent_columns == ["species"]  # the label is not served
    # one window, or two if the test ran across midnight (UTC)
    assert sum(w.rows for w in report.windows) == len(rows) + 50
    assert sum(w.requests for w in report.windows) in (2, 3)
    latency = [w.measures["latency"] for w in report.windows]
    assert sum(m["requests"] for m in latency) == sum(w.requests for w in report.windows)
    assert all(m["p99_ms"] is not None and m["p99_ms"] > 0 for m in latency)
    window = max(report.windows, key=lambda w: w.rows)
    assert set(window.versions) == {"penguins/2"}
    outputs = {n for n, c in window.columns.items() if c.role == "output"}
    assert outputs == {"class_ids", "class_labels", "probabilities"}
    assert set(report.reference.baselines) == outputs
    features = {n for n, c in window.columns.items() if c.role == "feature"}
    assert features == {
        "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g",
        "sex", "year",
    }  # fmt: skip
    assert window.columns["island"].drift is not None
    assert window.columns["island"].drift < 0.1  # half the training rows: no drift
