"""The latest window's figures as Prometheus gauges, for node_exporter's textfile collector.

`--prometheus FILE` writes the text exposition format (HELP and TYPE lines, then samples)
of the newest window the run measured, to a hidden temporary file beside `FILE` that is then
renamed over it, so the collector never reads half a file. Point node_exporter's
`--collector.textfile.directory` at FILE's directory (the file must end in `.prom`). A run
that measured no window leaves the file as it was.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from shipyard.io.atomic import write_text_atomically

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.monitoring.findings import WindowFigures
    from shipyard.monitoring.report import MonitorResult

PREFIX = "shipyard_monitor_"
GAUGES = {
    "feature_drift": "Drift of a column in the latest window, by its comparator.",
    "drift_threshold": "The drift above which a column's drift is a finding.",
    "missing_share": "Share of the latest window's rows without a value of the column.",
    "dataset_drift_share": "Share of the features that drifted in the latest window.",
    "rows": "Rows logged in the latest window.",
    "requests": "Requests logged in the latest window.",
    "latency_seconds": "Latency quantiles of the latest window's requests, in seconds.",
    "alerts_firing": "Alerts firing after the latest run.",
    "window_start_timestamp_seconds": "Start of the latest window, in seconds since the epoch.",
    "window_complete": "1 when the latest window is finished, 0 while it is open.",
}
QUANTILES = (("0.5", "p50_ms"), ("0.95", "p95_ms"), ("0.99", "p99_ms"))


def render_gauges(report: MonitorResult) -> str | None:
    """Return the gauges of the report's newest window; None when it measured none."""
    if not report.windows:
        return None
    window = max(report.windows, key=lambda w: w.start_us)
    base = {"monitor": report.monitor, "model": ",".join(sorted(window.versions))}
    samples: dict[str, list[tuple[dict[str, str], float]]] = {name: [] for name in GAUGES}
    for column in window.columns.values():
        labels = base | {"feature": column.column}
        if column.drift is not None:
            samples["feature_drift"].append((labels, column.drift))
        if column.threshold is not None:
            samples["drift_threshold"].append((labels, column.threshold))
        samples["missing_share"].append((labels, column.missing_share))
    if window.drifted_share is not None:
        samples["dataset_drift_share"].append((base, window.drifted_share))
    samples["rows"].append((base, window.rows))
    samples["requests"].append((base, window.requests))
    for quantile, key in QUANTILES:
        latency = _latency(window, key)
        if latency is not None:
            samples["latency_seconds"].append((base | {"quantile": quantile}, latency / 1000))
    samples["alerts_firing"].append((base, len(report.firing)))
    samples["window_start_timestamp_seconds"].append((base, window.start_us / 1e6))
    samples["window_complete"].append((base, float(window.complete)))
    lines = []
    for name, help_text in GAUGES.items():
        lines += [f"# HELP {PREFIX}{name} {help_text}", f"# TYPE {PREFIX}{name} gauge"]
        lines += [f"{PREFIX}{name}{_labels(labels)} {_value(v)}" for labels, v in samples[name]]
    return "\n".join(lines) + "\n"


def write_gauges(report: MonitorResult, path: Path) -> bool:
    """Write the gauges to `path` atomically (a temporary file renamed); False when the run
    measured no window and the file was left as it was.

    Raises:
        OSError: The file cannot be written.
    """
    text = render_gauges(report)
    if text is None:
        return False
    write_text_atomically(path, text)
    return True


def _latency(window: WindowFigures, key: str) -> float | None:
    return window.measures.get("latency", {}).get(key)


def _labels(labels: dict[str, str]) -> str:
    """`{key="value",...}`, values escaped as the exposition format says."""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
