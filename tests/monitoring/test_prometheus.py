"""Prometheus gauges of the latest window, parsed back by the Prometheus client's parser."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from prometheus_client.parser import text_string_to_metric_families

from shipyard.monitoring.measures import LatencyMeasure
from shipyard.monitoring.monitor import MonitorOptions
from shipyard.monitoring.prometheus import render_gauges, write_gauges
from tests.monitoring.logs import T0, write_log
from tests.monitoring.runs import monitored

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Project


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge" and family.documentation
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_the_latest_window_s_figures_are_gauges_with_help_and_type(
    tmp_path: Path, logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, seed=1)
    latency = pa.array(np.repeat(np.linspace(5, 50, 1500), 2), pa.float32())  # 2 rows a request
    write_log(logs, 1, seed=2, shift=0.5, columns={"latency_ms": latency})
    options = MonitorOptions(
        logs=str(logs),
        name='taxi "east"',
        reference=str(reference),
        measures=(LatencyMeasure(p99_threshold_ms=40),),
    )
    report = monitored(options, project)
    path = tmp_path / "textfile" / "monitor.prom"
    assert write_gauges(report, path)
    assert [p.name for p in path.parent.iterdir()] == ["monitor.prom"]  # no temporary left
    text = path.read_text()
    assert "# HELP shipyard_monitor_feature_drift " in text
    assert '\\"east\\"' in text  # label values escaped
    samples = _samples(text)
    base = (("model", "taxi/3"), ("monitor", 'taxi "east"'))
    latest = report.windows[-1]
    assert latest.start_us == T0 + 3_600_000_000
    drift = samples["shipyard_monitor_feature_drift", (("feature", "x"), *base)]
    assert drift == latest.columns["x"].drift and drift > 0.2
    assert samples["shipyard_monitor_missing_share", (("feature", "y"), *base)] == 0.0
    assert samples["shipyard_monitor_dataset_drift_share", base] == latest.drifted_share
    assert samples["shipyard_monitor_requests", base] == 1500
    assert samples["shipyard_monitor_rows", base] == 3000
    p99 = samples["shipyard_monitor_latency_seconds", (*base, ("quantile", "0.99"))]
    assert abs(p99 - 0.0496) < 0.001
    assert samples["shipyard_monitor_alerts_firing", base] == len(report.firing) == 2  # x, latency
    assert samples["shipyard_monitor_window_start_timestamp_seconds", base] == latest.start_us / 1e6
    assert samples["shipyard_monitor_window_complete", base] == 0.0


def test_a_run_that_measured_no_window_leaves_the_file_as_it_was(
    tmp_path: Path, logs: Path, reference: Path, project: Project
) -> None:
    write_log(logs, 0, seed=1)
    options = MonitorOptions(logs=str(logs), name="taxi", reference=str(reference))
    path = tmp_path / "monitor.prom"
    assert write_gauges(monitored(options, project), path)
    before = path.read_text()
    again = monitored(options, project)
    assert render_gauges(again) is None and not write_gauges(again, path)
    assert path.read_text() == before
