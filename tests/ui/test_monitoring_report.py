"""A monitor's report in the UI: its artifact page frames the report's page, which draws each
column's drift over time and lists the alerts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shipyard.monitoring.monitor import MonitorOptions
from shipyard.ui import create_app
from shipyard.ui.read_only import open_read_only
from tests.monitoring.logs import write_log, write_reference
from tests.monitoring.runs import monitored, open_project
from tests.ui.server import get, serving

if TYPE_CHECKING:
    from pathlib import Path


def test_a_monitoring_report_shows_drift_over_time_and_its_alerts(tmp_path: Path) -> None:
    logs = tmp_path / "logs" / "taxi" / "3"
    write_log(logs, 0, seed=10)
    write_log(logs, 1, seed=11, shift=0.5)
    write_log(logs, 2, seed=12, colors=[0.3, 0.3, 0.4])
    reference = write_reference(tmp_path / "reference.parquet")
    options = MonitorOptions(logs=str(logs.parent.parent), name="taxi", reference=str(reference))
    with open_project(tmp_path) as project:
        report = monitored(options, project)
    assert report.artifact is not None and report.firing

    viewer = open_read_only(f"sqlite:///{tmp_path / 'store.db'}", str(tmp_path / "artifacts"))
    with serving(create_app(viewer)) as url:
        artifact = get(f"{url}/artifacts/{report.artifact}")
        assert artifact.status == 200
        assert f'src="/artifacts/{report.artifact}/files/report.html"' in artifact.text
        page = get(f"{url}/artifacts/{report.artifact}/files/report.html")
    viewer.close()
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "1 alert firing." in text and "<h2>Drift over time</h2>" in text
    assert "<script" not in text and "http://" not in text and "https://" not in text  # offline
    firing = re.findall(r"<tr class='firing'>(.*?)</tr>", text)
    assert len(firing) == 1 and ">color<" in firing[0]
    assert re.findall(r"<tr class='resolved'>(.*?)</tr>", text)  # x drifted, then recovered
    charts = re.findall(r"<svg.*?</svg>", text, flags=re.S)
    titled = [c for c in charts for name in ("x", "y", "color") if f"{name}: " in c]
    assert len(titled) >= 3  # one chart per monitored column
    assert all("<path" in c or "<polyline" in c or "<circle" in c for c in titled)
