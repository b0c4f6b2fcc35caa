"""The viewer of a `ModelRun` artifact: its training curves, one chart per metric.

Built from the artifact's JSON (`preview` of `shipyard.artifacts.ModelRun`: `history`, one
row per epoch), the same the API returns. A metric measured on both the training and the
evaluation data (`train_loss`, `eval_loss`) shares one chart; the charts are inline SVG
drawn with `shipyard.artifacts.plot`, and the history is also a table, for screen readers
and exact values.
"""

from __future__ import annotations

import math
from typing import Any, Final

from shipyard.artifacts import plot
from shipyard.ui.html import escape, number, records_table

WIDTH: Final = 440
HEIGHT: Final = 250
STEP_KEYS: Final = ("epoch", "step")
PREFIXES: Final = (("train_", "train"), ("eval_", "eval"))
COLORS: Final = {"train": "#2563eb", "eval": "#d97706", "": "#2563eb"}


def render_model_run(artifact: dict[str, Any]) -> str:
    """The training curves and history table of a model run artifact."""
    preview = artifact["preview"] or {}
    history: list[dict[str, Any]] = preview.get("history", [])
    head = "<section aria-labelledby=curves-title><h2 id=curves-title>Training curves</h2>"
    if not history:
        return head + "<p class=muted>The training recorded no epoch.</p></section>"
    x_key = next((k for k in STEP_KEYS if all(k in row for row in history)), None)
    xs = [float(row[x_key]) if x_key else float(i + 1) for i, row in enumerate(history)]
    x_title = x_key or "epoch"
    charts = "".join(
        f"<figure>{chart(metric, x_title, xs, series)}</figure>"
        for metric, series in metric_series(history).items()
    )
    tensorboard = preview.get("tensorboard")
    hint = (
        f"<p>TensorBoard: <code>tensorboard --logdir {escape(tensorboard)}</code></p>"
        if tensorboard
        else ""
    )
    return f"{head}<div class=charts>{charts}</div>{hint}{_table(history)}</section>"


def metric_series(history: list[dict[str, Any]]) -> dict[str, dict[str, list[float | None]]]:
    """Each metric's series by side (`train`, `eval`, or "" for neither), in column order.

    `train_loss` and `eval_loss` become `{"loss": {"train": [...], "eval": [...]}}`; a value
    that is missing or not a finite number is None (a gap in the curve).
    """
    columns = list(dict.fromkeys(k for row in history for k in row if k not in STEP_KEYS))
    found: dict[str, dict[str, list[float | None]]] = {}
    for column in columns:
        metric, side = column, ""
        for prefix, name in PREFIXES:
            if column.startswith(prefix):
                metric, side = column[len(prefix) :], name
        found.setdefault(metric, {})[side] = [_finite(row.get(column)) for row in history]
    return found


def chart(metric: str, x_title: str, xs: list[float], series: dict[str, list[float | None]]) -> str:
    """One metric's curves over `xs` as inline SVG, a legend naming each side."""
    values = [v for ys in series.values() for v in ys if v is not None]
    low, high = min(values, default=0.0), max(values, default=1.0)
    pad = (high - low) * 0.05 or abs(high) * 0.1 or 0.5  # a constant sits mid-chart
    sides = ", ".join(side for side in series if side)
    canvas = plot.Canvas(WIDTH, HEIGHT, f"{metric} by {x_title}" + (f" ({sides})" if sides else ""))
    canvas.add(plot.Text(8, 14, metric, 12, bold=True))
    x, y = plot.draw_axes(
        canvas,
        plot.Axis(xs[0], xs[-1] if xs[-1] > xs[0] else xs[0] + 1, x_title),
        plot.Axis(low - pad, high + pad),
        left=48,
        top=24,
    )
    legend_x = WIDTH - 10.0
    for side, ys in reversed(series.items()):
        color = COLORS.get(side, COLORS[""])
        for run in _runs(xs, ys):
            points = tuple((x(a), y(b)) for a, b in run)
            canvas.add(plot.Polyline(points, color, 2.0))
            if len(run) == 1:
                canvas.add(plot.Dot(*points[0], 2.5, color))
        if side:
            canvas.add(plot.Text(legend_x, 14, side, 11, "end", color=color, bold=True))
            legend_x -= plot.text_width(side, 11) + 12
    return plot.render_svg(canvas)


def _runs(xs: list[float], ys: list[float | None]) -> list[list[tuple[float, float]]]:
    """The unbroken stretches of a series: a missing value ends one."""
    runs: list[list[tuple[float, float]]] = [[]]
    for a, b in zip(xs, ys, strict=True):
        if b is None:
            runs.append([])
        else:
            runs[-1].append((a, b))
    return [run for run in runs if run]


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _table(history: list[dict[str, Any]]) -> str:
    table = records_table(
        history, caption="History, one row per epoch", cell=_cell, cell_class="num"
    )
    return (
        f"<details><summary>History ({len(history)} rows)</summary>"
        f"<div class=table-wrap>{table}</div></details>"
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return number(value)
    return "" if value is None else str(value)
