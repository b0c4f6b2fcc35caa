"""The monitoring report as one self-contained HTML page: inline CSS and SVG, no script.

The alerts firing and this run's notifications as a table; then, per column, its drift over
the windows (the finished windows the state remembers, then this run's open ones) against
its threshold, and the requests' p99 latency, drawn with `shipyard.artifacts.plot` as the
other reports are; then the windows with their rows, drifted share, p99 latency and
findings.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import plot
from shipyard.artifacts.evaluation_report import STYLE
from shipyard.monitoring.decay_html import decay_section
from shipyard.monitoring.report import firing_line, iso_time

if TYPE_CHECKING:
    from shipyard.monitoring.findings import WindowFigures
    from shipyard.monitoring.report import MonitorResult

WIDTH = 320
HEIGHT = 200
BLUE = "#2563eb"
RED = "#b91c1c"
LIMIT = "#9ca3af"
_STYLE = """
.sy-eval tr.firing td { background: #fecaca; } .sy-eval tr.resolved td { color: #166534; }
.sy-eval .charts svg { flex: 0 1 320px; }
.sy-eval th, .sy-eval td.short { white-space: nowrap; }
"""


def render_report(report: MonitorResult, *, title: str | None = None) -> str:
    """Return a standalone HTML page of a monitoring run.

    Example:
        >>> Path("monitor.html").write_text(render_report(run_monitor(options, store)))
    """
    title = title or f"Monitoring of {report.logs}"
    body = "".join(
        [
            f"<div class='sy-eval'><style>{STYLE}{_STYLE}</style><h1>{html.escape(title)}</h1>",
            _verdict(report),
            "<h2>Alerts</h2>",
            _alerts(report),
            "<h2>Drift over time</h2><div class='charts'>",
            *_charts(report),
            "</div>",
            decay_section(report.decay),
            "<h2>Windows of this run</h2>",
            _windows(report),
            "</div>",
        ]
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>\n"
    )


def _verdict(report: MonitorResult) -> str:
    reference = html.escape(report.reference.source)
    read = (
        f"{report.files_read} new files, {report.rows_read:,} rows read; reference "
        f"{reference} ({report.reference.rows:,} rows); windows of {report.window_s} s"
        f"{_slide(report)}."
    )
    if report.alerting:
        return f"<p class='fail'>{firing_line(len(report.firing))}</p><p>{read}</p>"
    return f"<p class='ok'>No alert firing.</p><p>{read}</p>"


def _slide(report: MonitorResult) -> str:
    slide = report.slide_s or report.window_s
    return "" if slide == report.window_s else f", one every {slide} s"


def _alerts(report: MonitorResult) -> str:
    rows = [(alert, "firing") for alert in report.firing]
    rows += [(a, "resolved") for a in report.notifications if a["status"] == "resolved"]
    if not rows:
        return "<p>None.</p>"
    head = "<tr><th class='name'>state</th><th class='name'>kind</th><th class='name'>column"
    head += "</th><th>since</th><th>until</th><th class='name'>summary</th></tr>"
    cells = [
        f"<tr class='{css}'><td class='name short'>{css}</td><td class='name short'>"
        f"{html.escape(a['labels']['kind'])}</td><td class='name'>"
        f"{html.escape(a['labels']['column'])}</td><td class='short'>{a['startsAt']}</td>"
        f"<td class='short'>{'' if css == 'firing' else a['endsAt']}</td>"
        f"<td class='name'>{html.escape(a['annotations']['summary'])}</td></tr>"
        for a, css in rows
    ]
    return f"<table>{head}{''.join(cells)}</table>"


def _series(report: MonitorResult) -> list[dict[str, Any]]:
    """Every window to draw, oldest first: the finished ones remembered, then open ones."""
    seen = {entry["start_us"] for entry in report.history}
    series = list(report.history)
    for window in report.windows:
        if window.start_us not in seen:
            series.append(
                {
                    "start_us": window.start_us,
                    "drift": {n: c.drift for n, c in window.columns.items()},
                    "measures": window.measures,
                }
            )
    return sorted(series, key=lambda entry: entry["start_us"])


def _charts(report: MonitorResult) -> list[str]:
    series = _series(report)
    charts = []
    for name, column in report.reference.columns.items():
        points = [
            (entry["start_us"] / 3.6e9, entry["drift"][name])
            for entry in series
            if entry["drift"].get(name) is not None
        ]
        if points:
            charts.append(_chart(name, column.comparator, column.threshold, points))
    latency = [
        (entry["start_us"] / 3.6e9, p99)
        for entry in series
        if (p99 := entry.get("measures", {}).get("latency", {}).get("p99_ms")) is not None
    ]
    if latency:
        charts.append(_chart("p99 latency", "ms", None, latency))
    return charts or ["<p>No window had enough rows to measure drift.</p>"]


def _chart(
    name: str, comparator: str, threshold: float | None, points: list[tuple[float, float]]
) -> str:
    canvas = plot.Canvas(WIDTH, HEIGHT, f"{name}: {comparator} per window")
    canvas.add(plot.Text(WIDTH / 2, 13, f"{name} ({comparator})", 12, "middle", bold=True))
    first = points[0][0]
    xs = [x - first for x, _ in points]
    top = max([*(y for _, y in points), threshold or 0.0]) * 1.1 or 1.0
    x, y = plot.draw_axes(
        canvas,
        plot.Axis(0.0, max(xs[-1], 1.0), "hours since the first window"),
        plot.Axis(0.0, top, comparator),
        top=24,
    )
    if threshold is not None:
        canvas.add(plot.Polyline(((x(0), y(threshold)), (x(max(xs[-1], 1.0)), y(threshold))),
                                 LIMIT, dashed=True))  # fmt: skip
    line = tuple((x(a), y(b)) for a, (_, b) in zip(xs, points, strict=True))
    canvas.add(plot.Polyline(line, BLUE, 2.0))
    for (px, py), (_, value) in zip(line, points, strict=True):
        over = threshold is not None and value > threshold
        canvas.add(plot.Dot(px, py, 3.0, RED if over else BLUE, title=f"{value:.4g}"))
    return plot.render_svg(canvas)


def _p99(window: WindowFigures) -> str:
    p99 = window.measures.get("latency", {}).get("p99_ms")
    return "\N{EN DASH}" if p99 is None else f"{p99:.1f} ms"


def _windows(report: MonitorResult) -> str:
    if not report.windows:
        return "<p>No new rows.</p>"
    head = "<tr><th class='name'>start</th><th>rows</th><th>requests</th><th>drifted</th>"
    head += "<th>p99 latency</th><th class='name'>findings</th></tr>"
    cells = []
    for window in report.windows:
        found = "<br>".join(html.escape(f.message) for f in window.findings) or "none"
        share = "\N{EN DASH}" if window.drifted_share is None else f"{window.drifted_share:.0%}"
        state = "" if window.complete else " (open)"
        cells.append(
            f"<tr><td class='name short'>{iso_time(window.start_us)}{state}</td>"
            f"<td>{window.rows:,}</td><td>{window.requests:,}</td><td>{share}</td>"
            f"<td>{_p99(window)}</td><td class='name'>{found}</td></tr>"
        )
    return f"<table>{head}{''.join(cells)}</table>"
