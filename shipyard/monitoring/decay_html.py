"""The monitoring report's live metrics over time: one chart per served version and metric.

Each chart draws the metric in every window with labels (this run joins every window's
labels again, so these are all of them), the evaluation's value (dashed) and the limit
past which it decays (dotted red), with the windows compared and decayed as red dots.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from shipyard.artifacts import plot

if TYPE_CHECKING:
    from shipyard.monitoring.decay import DecayReport, DecayWindow

WIDTH = 320
HEIGHT = 200
BLUE = "#2563eb"
RED = "#b91c1c"
GREY = "#9ca3af"
HOUR_US = 3_600_000_000


def decay_section(decay: DecayReport | None) -> str:
    """Return the report's "Live metrics over time" section; empty without labels."""
    if decay is None or not decay.windows:
        return ""
    charts = []
    versions = sorted({window.version for window in decay.windows})
    for version in versions:
        windows = [w for w in decay.windows if w.version == version]
        for metric in windows[0].metrics:
            points = [w for w in windows if w.metrics.get(metric) is not None]
            if points:
                charts.append(_chart(version, metric, points))
    summary = (
        f"{decay.labels:,} labels, {decay.matched:,} matched to logged predictions, "
        f"{decay.unmatched:,} not (or not yet)."
    )
    return (
        f"<h2>Live metrics over time</h2><p>{html.escape(summary)}</p>"
        f"<div class='charts'>{''.join(charts)}</div>"
    )


def _chart(version: str, metric: str, windows: list[DecayWindow]) -> str:
    title = f"{version}: {metric}"
    canvas = plot.Canvas(WIDTH, HEIGHT, f"{title} per window, against evaluation")
    canvas.add(plot.Text(WIDTH / 2, 13, title, 12, "middle", bold=True))
    first = windows[0].start_us
    xs = [(w.start_us - first) / HOUR_US for w in windows]
    values = [float(w.metrics[metric] or 0.0) for w in windows]
    evaluated = windows[-1].evaluation.get(metric)
    limits = [f.threshold for w in windows for f in w.findings if f.column.endswith(metric)]
    marks = [*values, *([] if evaluated is None else [evaluated]), *limits]
    span = max(xs[-1], 1.0)
    x, y = plot.draw_axes(
        canvas,
        plot.Axis(0.0, span, "hours since the first window"),
        plot.Axis(min(0.0, *marks), max(marks) * 1.1 or 1.0, metric),
        top=24,
    )
    if evaluated is not None:
        level = ((x(0), y(evaluated)), (x(span), y(evaluated)))
        canvas.add(plot.Polyline(level, GREY, dashed=True))
    if limits:
        canvas.add(plot.Polyline(((x(0), y(limits[-1])), (x(span), y(limits[-1]))), RED,
                                 dashed=True))  # fmt: skip
    line = tuple((x(a), y(b)) for a, b in zip(xs, values, strict=True))
    canvas.add(plot.Polyline(line, BLUE, 2.0))
    for (px, py), window, value in zip(line, windows, values, strict=True):
        decayed = any(f.column.endswith(f":{metric}") for f in window.findings)
        label = f"{value:.4g} ({window.labelled:,} labels)"
        canvas.add(plot.Dot(px, py, 3.0, RED if decayed else BLUE, title=label))
    return plot.render_svg(canvas)
