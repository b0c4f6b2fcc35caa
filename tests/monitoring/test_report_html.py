"""The HTML report: drift and latency over the windows, and the windows' table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from shipyard.monitoring.monitor import MonitorOptions
from shipyard.monitoring.report_html import render_report
from tests.monitoring.logs import write_log
from tests.monitoring.runs import monitored

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Project


def test_latency_over_the_windows_is_charted_beside_drift(
    logs: Path, reference: Path, project: Project
) -> None:
    for hour in range(3):
        latency = pa.array(np.full(3000, 10.0 * (hour + 1)), pa.float32())
        write_log(logs, hour, seed=hour, columns={"latency_ms": latency})
    options = MonitorOptions(logs=str(logs), name="taxi", reference=str(reference), slide_s=1800)
    page = render_report(monitored(options, project))
    assert "p99 latency (ms)" in page and "x (wasserstein)" in page
    assert "<td>29.9 ms</td>" in page  # the last window's p99: 30 ms, within 1%
    assert "one every 1800 s" in page
