"""Charts of one feature across datasets: overlaid histograms or grouped top values.

`feature_chart` turns statistics into plain values (a `Chart`); `draw_chart` lays it out
with axes, ticks and tick labels on a `plot.Canvas`, which `render_svg` returns as inline
SVG (the HTML report, notebooks) and `render_png` as a PNG (`shipyard stats --png`).
Numeric features overlay each dataset's equal-width histogram, its bars' heights the share
of the dataset's values per reference bin (so datasets of different sizes and ranges
overlay fairly); string features show the most frequent values as horizontal bars, one
per dataset, labelled with the value and its share of the dataset's present values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shipyard.artifacts import plot

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shipyard.artifacts.statistics import DatasetStatistics, FeatureStatistics

PALETTE = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2"]
"""Dataset colors, in order: the first dataset is blue, the second orange."""

MAX_CATEGORIES = 10
PNG_LAYOUT_WIDTH = 320
"""PNG charts are laid out at the SVG's size, then drawn scaled up to the requested width."""


@dataclass(frozen=True)
class Bar:
    """A bar from `low` to `high` on the value axis; `height` is a share of values in [0, 1].

    `label` says what it shows, for tooltips.
    """

    low: float
    high: float
    height: float
    label: str = ""


@dataclass(frozen=True)
class Series:
    """One dataset's bars, in its color."""

    name: str
    color: str
    bars: list[Bar]


@dataclass(frozen=True)
class Chart:
    """What to draw for one feature.

    Attributes:
        feature: The feature's name.
        kind: "histogram" (x is the value) or "categories" (bar `i` spans `[i, i + 1)`).
        series: One per dataset that has the feature.
        x_min: Left end of the value axis.
        x_max: Right end of the value axis.
        categories: The category labels, for "categories".
        bin_width: For histograms, the reference bin a bar's height refers to: the share of
            values per this width of the value axis (a dataset's share per bin when the
            datasets share their bins).
    """

    feature: str
    kind: Literal["histogram", "categories"]
    series: list[Series]
    x_min: float
    x_max: float
    categories: list[str]
    bin_width: float = 0.0


def feature_chart(datasets: Mapping[str, DatasetStatistics], feature: str) -> Chart | None:
    """Return the chart of `feature` across `datasets`, or None if there is nothing to draw."""
    present = {
        name: stats.features[feature]
        for name, stats in datasets.items()
        if feature in stats.features
    }
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(datasets)}
    if any(f.numeric is not None and f.numeric.histogram.counts for f in present.values()):
        return _histogram_chart(feature, present, colors)
    if any(f.string is not None and f.string.top_values for f in present.values()):
        return _categories_chart(feature, present, colors)
    return None


def _histogram_chart(
    feature: str, present: dict[str, FeatureStatistics], colors: dict[str, str]
) -> Chart:
    histograms = {
        name: f.numeric.histogram
        for name, f in present.items()
        if f.numeric is not None and f.numeric.histogram.counts
    }
    low = min(h.edges[0] for h in histograms.values())
    high = max(h.edges[-1] for h in histograms.values())
    if low == high:
        low, high = low - 0.5, high + 0.5
    thin = (high - low) / 50
    reference = (high - low) / max(len(h.counts) for h in histograms.values())
    series = []
    for name, histogram in histograms.items():
        total = sum(histogram.counts) or 1.0
        bars = []
        for left, right, count in zip(
            histogram.edges, histogram.edges[1:], histogram.counts, strict=False
        ):
            share = count / total
            label = f"{name}: [{_format(left)}, {_format(right)}] {100 * share:.1f}%"
            if right - left < thin:  # a constant: draw a thin bar around it
                middle = (left + right) / 2
                bar = Bar(middle - thin / 2, middle + thin / 2, share, label)
            else:
                bar = Bar(left, right, share * reference / (right - left), label)
            bars.append(bar)
        series.append(Series(name, colors[name], bars))
    return Chart(feature, "histogram", series, low, high, [], reference)


def _categories_chart(
    feature: str, present: dict[str, FeatureStatistics], colors: dict[str, str]
) -> Chart:
    categories: list[str] = []
    for f in present.values():
        for item in f.string.top_values if f.string is not None else []:
            if item.value not in categories and len(categories) < MAX_CATEGORIES:
                categories.append(item.value)
    fractions: dict[str, list[float]] = {}
    for name, f in present.items():
        counts = {item.value: item.count for item in f.string.top_values} if f.string else {}
        total = f.count or 1
        fractions[name] = [counts.get(value, 0.0) / total for value in categories]
    series = [
        Series(
            name,
            colors[name],
            [
                Bar(i, i + 1, v, f"{name}: {categories[i]} {100 * v:.1f}%")
                for i, v in enumerate(values)
            ],
        )
        for name, values in fractions.items()
    ]
    return Chart(feature, "categories", series, 0.0, float(len(categories)), categories)


def render_svg(chart: Chart, *, width: int = 320) -> str:
    """Return the chart as an inline `<svg>` element (no scripts, no external references)."""
    return plot.render_svg(draw_chart(chart, width=width))


def render_png(chart: Chart, *, width: int = 800, height: int = 450) -> bytes:
    """Return the chart as a PNG image (RGB) with a title, a legend and both axes."""
    scale = width / PNG_LAYOUT_WIDTH
    canvas = draw_chart(chart, width=PNG_LAYOUT_WIDTH, height=height / scale, legend=True)
    return plot.render_png(canvas, scale=scale)


def draw_chart(
    chart: Chart, *, width: float, height: float | None = None, legend: bool = False
) -> plot.Canvas:
    """Lay the chart out with its axes, ticks and labels.

    Args:
        chart: What to draw.
        width: The canvas width in pixels.
        height: The canvas height; by default what the chart needs.
        legend: Draw the feature's name and a legend of the datasets above the plot.
    """
    top = 8.0
    if chart.kind == "categories":
        groups = max(len(chart.series), 1)
        rows = max(len(chart.categories), 1)
        height = height or top + rows * (groups * 9 + 5) + 24 + 34 * legend
    canvas = plot.Canvas(width, height or 150 + 34 * legend, chart.feature)
    if legend:
        _draw_legend(canvas, chart)
        top += 34
    if chart.kind == "categories":
        _draw_categories(canvas, chart, top)
    else:
        _draw_histogram(canvas, chart, top)
    return canvas


def _draw_legend(canvas: plot.Canvas, chart: Chart) -> None:
    canvas.add(plot.Text(6, 14, shorten_label(chart.feature, 48), 12, bold=True))
    x = 6.0
    for series in chart.series:
        name = shorten_label(series.name, 30)
        canvas.add(plot.Rect(x, 22, 9, 9, series.color), plot.Text(x + 12, 30, name, 10))
        x += 22 + plot.text_width(name, 10)


def _draw_histogram(canvas: plot.Canvas, chart: Chart, top: float) -> None:
    highest = max((bar.height for s in chart.series for bar in s.bars), default=0.0) or 1.0
    x_axis = plot.Axis(chart.x_min, chart.x_max, f"value (bins of {_format(chart.bin_width)})")
    y_axis = plot.Axis(0.0, highest * 1.05, "% of values", percent=True)
    x, y = plot.draw_axes(canvas, x_axis, y_axis, left=46, top=top, bottom=32)
    for series in chart.series:
        for bar in series.bars:
            canvas.add(
                plot.Rect(
                    x(bar.low),
                    y(bar.height),
                    x(bar.high) - x(bar.low),
                    y(0.0) - y(bar.height),
                    series.color,
                    0.55,
                    bar.label or series.name,
                )
            )


def _draw_categories(canvas: plot.Canvas, chart: Chart, top: float) -> None:
    rows = max(len(chart.categories), 1)
    groups = max(len(chart.series), 1)
    longest = max((len(c) for c in chart.categories), default=1)
    label_width = min(plot.text_width("x" * max(longest, 4), 10), canvas.width * 0.35)
    highest = max((bar.height for s in chart.series for bar in s.bars), default=0.0) or 1.0
    x_axis = plot.Axis(0.0, highest, "% of present values", percent=True)
    x, y = plot.draw_axes(
        canvas,
        x_axis,
        plot.Axis(0.0, float(rows), ticks=False),
        left=label_width + 8,
        right=34,
        top=top,
        bottom=32,
    )
    row_height = y(0.0) - y(1.0)
    thickness = min(9.0, row_height * 0.8 / groups)
    characters = max(int(label_width / plot.text_width("x", 10)), 2)
    for row, category in enumerate(chart.categories):
        row_top = y(float(rows - row))
        middle = row_top + row_height / 2
        canvas.add(
            plot.Text(label_width + 2, middle + 3.5, shorten_label(category, characters), 10, "end")
        )
        first = middle - thickness * groups / 2
        for index, series in enumerate(chart.series):
            bar = series.bars[row]
            bar_top = first + index * thickness
            canvas.add(
                plot.Rect(
                    x(0.0),
                    bar_top,
                    x(bar.height) - x(0.0),
                    thickness - 1,
                    series.color,
                    0.8,
                    bar.label or series.name,
                )
            )
            if thickness >= 7:
                canvas.add(
                    plot.Text(
                        x(bar.height) + 3,
                        bar_top + thickness - 2,
                        plot.format_tick(bar.height, percent=True),
                        thickness - 1,
                    )
                )


def shorten_label(text: str, size: int) -> str:
    """Cut `text` to `size` characters, with an ellipsis when it was longer."""
    return text if len(text) <= size else text[: size - 1] + "\N{HORIZONTAL ELLIPSIS}"


def _format(value: float) -> str:
    return f"{value:.4g}"
