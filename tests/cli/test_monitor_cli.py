"""`shipyard monitor`, the real command in subprocesses: exit codes, JSON, HTML, state."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.cli.command import shipyard
from tests.cli.imported import imported_modules, loaded
from tests.monitoring.logs import write_log, write_reference

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def test_monitor_exits_1_while_an_alert_fires_and_0_once_it_resolved(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_reference(tmp_path / "train.parquet")
    write_log(logs / "taxi" / "3", 0, seed=1, shift=0.5)
    (logs / "taxi" / "3" / "broken.parquet").write_bytes(b"PAR1")
    store = ["--store", f"sqlite:///{tmp_path / 'store.db'}"]

    usage = shipyard(tmp_path, "monitor", "logs", *store)
    assert usage.returncode == 2
    assert "No push of model 'taxi' version 3 is recorded" in usage.stderr
    assert "Give the training data with --reference DATA." in usage.stderr

    bad = shipyard(tmp_path, "monitor", "logs", "--window", "1week", *store)
    assert bad.returncode == 2 and "such as 90s, 15m, 1h or 1d" in bad.stderr

    slide = shipyard(tmp_path, "monitor", "logs", "--window", "1h", "--slide", "2h", *store)
    assert slide.returncode == 2 and "'--slide' option" in slide.stderr
    assert "at most --window" in slide.stderr

    fired = shipyard(
        tmp_path, "monitor", "logs", "--reference", "train.parquet", "--json",
        "--html", "report.html", "--prometheus", "gauges/monitor.prom",
        "--latency-p99-ms", "250", *store,
    )  # fmt: skip
    assert fired.returncode == 1, fired.stderr
    report = json.loads(fired.stdout)
    assert report["files"]["read"] == 1
    assert report["files"]["skipped"][0]["path"].endswith("broken.parquet")
    (window,) = report["windows"]
    assert window["start"] == "2026-01-01T00:00:00Z" and window["complete"] is False
    assert [f["column"] for f in window["findings"]] == ["x"]
    assert window["measures"]["latency"]["requests"] == 0  # a log written without latency
    gauges = (tmp_path / "gauges" / "monitor.prom").read_text()
    assert "# TYPE shipyard_monitor_feature_drift gauge" in gauges
    shown = shipyard(tmp_path, "artifacts", "show", str(report["artifact"]), "--json", *store)
    assert shown.returncode == 0, shown.stderr
    artifact = json.loads(shown.stdout)
    assert artifact["type"] == "MonitoringReport" and artifact["producer"]["node"] == "monitor"
    lineage = shipyard(tmp_path, "lineage", str(report["artifact"]), *store)
    assert lineage.returncode == 0 and "monitor" in lineage.stdout, lineage.stderr
    assert report["alerts"]["alerting"] is True
    assert "FIRING drift x since 2026-01-01T00:00:00Z" in fired.stderr
    page = (tmp_path / "report.html").read_text()
    assert "<svg" in page and "1 alert firing." in page and "x (wasserstein)" in page

    write_log(logs / "taxi" / "3", 1, seed=2)
    resolved, modules = imported_modules(tmp_path, "monitor", "logs", *store, scratch=tmp_path)
    assert loaded(modules, "pandas", "torch", "ray") == []  # PyArrow alone would load pandas
    assert resolved.returncode == 0, resolved.stderr
    assert "Read 1 new log files (3,000 rows; 1 read before)" in resolved.stdout
    assert "RESOLVED drift x" in resolved.stderr and "No alert firing." in resolved.stdout

    runs = shipyard(tmp_path, "runs", "--json", *store)
    assert runs.returncode == 0, runs.stderr
    pipelines = {run["pipeline"] for run in json.loads(runs.stdout)}
    assert pipelines == {"monitor:" + str(logs)}
