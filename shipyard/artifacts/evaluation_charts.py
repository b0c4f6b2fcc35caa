"""The evaluation report's charts, with axes, ticks and titles: curves, histograms, scatters.

ROC and precision-recall curves and the reliability diagram for classifiers; the residual
histogram, predicted against actual values and residuals against predictions for
regression. Each function returns inline SVG drawn with `plot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.artifacts import plot

if TYPE_CHECKING:
    from collections.abc import Sequence

WIDTH = 280
HEIGHT = 260
BLUE = "#2563eb"
REFERENCE = "#9ca3af"


def _titled(title: str) -> plot.Canvas:
    canvas = plot.Canvas(WIDTH, HEIGHT, title)
    canvas.add(plot.Text(WIDTH / 2, 13, title, 12, "middle", bold=True))
    return canvas


def curve(
    title: str,
    x_label: str,
    y_label: str,
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    diagonal: bool = False,
    dots: bool = False,
) -> str:
    """Return a curve on the unit square, e.g. ROC; `diagonal` draws the chance line."""
    canvas = _titled(title)
    x, y = plot.draw_axes(
        canvas, plot.Axis(0.0, 1.0, x_label), plot.Axis(0.0, 1.0, y_label), top=24
    )
    if diagonal:
        canvas.add(plot.Polyline(((x(0), y(0)), (x(1), y(1))), REFERENCE, dashed=True))
    points = tuple((x(a), y(b)) for a, b in zip(xs, ys, strict=True))
    canvas.add(plot.Polyline(points, BLUE, 2.0))
    if dots:
        canvas.add(*(plot.Dot(px, py, 3.0, BLUE) for px, py in points))
    return plot.render_svg(canvas)


def histogram(title: str, x_label: str, edges: Sequence[float], counts: Sequence[int]) -> str:
    """Return a histogram of counts over `edges` (one more edge than counts)."""
    canvas = _titled(title)
    top = max(counts, default=0) or 1
    x, y = plot.draw_axes(
        canvas,
        plot.Axis(edges[0], edges[-1], x_label),
        plot.Axis(0.0, top * 1.05, "rows"),
        left=46,
        top=24,
    )
    for low, high, count in zip(edges, edges[1:], counts, strict=False):
        canvas.add(
            plot.Rect(
                x(low),
                y(count),
                x(high) - x(low),
                y(0) - y(count),
                BLUE,
                0.8,
                f"[{low:.4g}, {high:.4g}): {count:,} rows",
            )
        )
    return plot.render_svg(canvas)


def scatter(
    title: str,
    x_label: str,
    y_label: str,
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    reference: str,
) -> str:
    """Return a scatter plot; `reference` draws `y = x` ("diagonal") or `y = 0` ("zero")."""
    canvas = _titled(title)
    x_low, x_high = _span(xs)
    y_low, y_high = _span(ys)
    if reference == "diagonal":  # the same range on both axes, so y = x is at 45 degrees
        x_low = y_low = min(x_low, y_low)
        x_high = y_high = max(x_high, y_high)
    else:
        y_low, y_high = min(y_low, 0.0), max(y_high, 0.0)
    x, y = plot.draw_axes(
        canvas,
        plot.Axis(x_low, x_high, x_label),
        plot.Axis(y_low, y_high, y_label),
        left=50,
        top=24,
    )
    if reference == "diagonal":
        line = ((x(x_low), y(x_low)), (x(x_high), y(x_high)))
    else:
        line = ((x(x_low), y(0.0)), (x(x_high), y(0.0)))
    canvas.add(plot.Polyline(line, REFERENCE, 1.5, dashed=True))
    canvas.add(*(plot.Dot(x(a), y(b), 2.0, BLUE, 0.45) for a, b in zip(xs, ys, strict=True)))
    return plot.render_svg(canvas)


def _span(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values, default=0.0), max(values, default=1.0)
    if low == high:
        return low - 0.5, high + 0.5
    pad = (high - low) * 0.03
    return low - pad, high + pad


def charts(overall: dict[str, Any]) -> list[str]:
    """Return every chart the overall metrics allow, as inline SVG."""
    from shipyard.artifacts.evaluation import format_metric

    drawn = []
    metrics = overall.get("metrics", {})
    roc = overall.get("curves", {}).get("roc")
    if roc and roc["fpr"]:
        title = f"ROC curve (AUC {format_metric(metrics.get('auc'))})"
        drawn.append(
            curve(
                title,
                "false positive rate",
                "true positive rate",
                roc["fpr"],
                roc["tpr"],
                diagonal=True,
            )
        )
    pr = overall.get("curves", {}).get("pr")
    if pr and pr["recall"]:
        title = f"Precision-recall curve (AP {format_metric(metrics.get('pr_auc'))})"
        drawn.append(curve(title, "recall", "precision", pr["recall"], pr["precision"]))
    buckets = overall.get("calibration", {}).get("buckets")
    if buckets:
        drawn.append(
            curve(
                "Calibration",
                "mean predicted probability",
                "observed frequency",
                [b["mean_predicted"] for b in buckets],
                [b["observed"] for b in buckets],
                diagonal=True,
                dots=True,
            )
        )
    points = overall.get("points")
    if points and points["actual"]:
        actual, predicted = points["actual"], points["predicted"]
        residuals = [a - p for a, p in zip(actual, predicted, strict=True)]
        drawn += [
            scatter(
                "Predicted vs actual",
                "actual",
                "predicted",
                actual,
                predicted,
                reference="diagonal",
            ),
            scatter(
                "Residual vs predicted",
                "predicted",
                "residual",
                predicted,
                residuals,
                reference="zero",
            ),
        ]
    residuals_summary = overall.get("residuals")
    if residuals_summary:
        edges = residuals_summary["histogram"]["edges"]
        counts = residuals_summary["histogram"]["counts"]
        drawn.append(histogram("Residuals", "residual (actual - predicted)", edges, counts))
    return drawn
