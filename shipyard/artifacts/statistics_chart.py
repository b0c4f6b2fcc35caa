"""Charts of one feature across datasets: overlaid histograms or grouped top values.

`feature_chart` turns statistics into plain geometry (a `Chart`); `render_svg` draws it as
inline SVG for the HTML report and notebooks, `render_png` as a PNG with Pillow for the
terminal. Numeric features show each dataset's equal-width histogram as a density (so
datasets of different sizes and ranges overlay fairly); string features show the most
frequent values as fractions of each dataset's present values, side by side.
"""

from __future__ import annotations

import dataclasses
import html
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shipyard.artifacts.statistics import DatasetStatistics, FeatureStatistics

PALETTE = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2"]
"""Dataset colors, in order: the first dataset is blue, the second orange."""

MAX_CATEGORIES = 10


@dataclass(frozen=True)
class Bar:
    """A bar from `low` to `high` on the x axis, `height` in [0, 1] of the chart's height.

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
        x_min: Left end of the x axis.
        x_max: Right end of the x axis.
        categories: The category labels, for "categories".
    """

    feature: str
    kind: Literal["histogram", "categories"]
    series: list[Series]
    x_min: float
    x_max: float
    categories: list[str]


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
    densities: dict[str, list[Bar]] = {}
    for name, histogram in histograms.items():
        total = sum(histogram.counts) or 1.0
        bars = []
        for left, right, count in zip(
            histogram.edges, histogram.edges[1:], histogram.counts, strict=False
        ):
            label = f"{name}: [{_format(left)}, {_format(right)}) {100 * count / total:.1f}%"
            if right - left < thin:  # a constant: draw a thin bar around it
                middle = (left + right) / 2
                bar = Bar(middle - thin / 2, middle + thin / 2, count / total / thin, label)
            else:
                bar = Bar(left, right, count / total / (right - left), label)
            bars.append(bar)
        densities[name] = bars
    top = max((bar.height for bars in densities.values() for bar in bars), default=0.0) or 1.0
    series = [
        Series(name, colors[name], [dataclasses.replace(b, height=b.height / top) for b in bars])
        for name, bars in densities.items()
    ]
    return Chart(feature, "histogram", series, low, high, [])


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
    top = max((v for values in fractions.values() for v in values), default=0.0) or 1.0
    series = [
        Series(
            name,
            colors[name],
            [
                Bar(i, i + 1, v / top, f"{name}: {categories[i]} {100 * v:.1f}%")
                for i, v in enumerate(values)
            ],
        )
        for name, values in fractions.items()
    ]
    return Chart(feature, "categories", series, 0.0, float(len(categories)), categories)


def render_svg(chart: Chart, *, width: int = 320, height: int = 120) -> str:
    """Return the chart as an inline `<svg>` element (no scripts, no external references)."""
    plot_height = height - 18
    span = (chart.x_max - chart.x_min) or 1.0

    def x(value: float) -> float:
        return (value - chart.x_min) / span * width

    shapes = []
    groups = max(len(chart.series), 1)
    for index, series in enumerate(chart.series):
        for bar in series.bars:
            left, right = x(bar.low), x(bar.high)
            if chart.kind == "categories":
                slot = (right - left) * 0.8 / groups
                left = left + (right - left) * 0.1 + index * slot
                right = left + slot
            top = plot_height * (1 - bar.height)
            shapes.append(
                f'<rect x="{left:.1f}" y="{top:.1f}" width="{max(right - left, 0.5):.1f}" '
                f'height="{plot_height - top:.1f}" fill="{series.color}" fill-opacity="0.55">'
                f"<title>{html.escape(bar.label or series.name)}</title></rect>"
            )
    labels = _axis_labels(chart)
    text = "".join(
        f'<text x="{x(position):.1f}" y="{height - 4}" font-size="10" fill="#555" '
        f'text-anchor="{anchor}">{html.escape(label)}</text>'
        for position, label, anchor in labels
    )
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(chart.feature)}">'
        f'<line x1="0" y1="{plot_height}" x2="{width}" y2="{plot_height}" stroke="#999"/>'
        f"{''.join(shapes)}{text}</svg>"
    )


def _axis_labels(chart: Chart) -> list[tuple[float, str, str]]:
    """Return `(x, label, text-anchor)` for the x axis."""
    if chart.kind == "categories":
        return [
            (i + 0.5, shorten_label(label, 10), "middle")
            for i, label in enumerate(chart.categories)
        ]
    middle = (chart.x_min + chart.x_max) / 2
    return [
        (chart.x_min, _format(chart.x_min), "start"),
        (middle, _format(middle), "middle"),
        (chart.x_max, _format(chart.x_max), "end"),
    ]


def render_png(chart: Chart, *, width: int = 800, height: int = 450) -> bytes:
    """Return the chart as a PNG image (RGB), with a title and a legend."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGBA", (width, height), "white")
    font = ImageFont.load_default(size=14)
    small = ImageFont.load_default(size=12)
    left, right, top, bottom = 20, width - 20, 56, height - 36
    span = (chart.x_max - chart.x_min) or 1.0

    def x(value: float) -> float:
        return left + (value - chart.x_min) / span * (right - left)

    groups = max(len(chart.series), 1)
    for index, series in enumerate(chart.series):
        layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        color = _rgb(series.color)
        for bar in series.bars:
            x0, x1 = x(bar.low), x(bar.high)
            if chart.kind == "categories":
                slot = (x1 - x0) * 0.8 / groups
                x0 = x0 + (x1 - x0) * 0.1 + index * slot
                x1 = x0 + slot
            y0 = bottom - (bottom - top) * bar.height
            draw.rectangle([x0, y0, max(x1, x0 + 1), bottom], fill=(*color, 130), outline=color)
        image = Image.alpha_composite(image, layer)
    image = image.convert("RGB")
    draw_text = ImageDraw.Draw(image)
    draw_text.line([left, bottom, right, bottom], fill=(120, 120, 120))
    draw_text.text((left, 10), chart.feature, fill=(20, 20, 20), font=font)
    legend_x = left
    for series in chart.series:
        draw_text.rectangle([legend_x, 34, legend_x + 12, 46], fill=_rgb(series.color))
        draw_text.text((legend_x + 16, 33), series.name, fill=(40, 40, 40), font=small)
        legend_x += 24 + int(draw_text.textlength(series.name, font=small))
    for position, label, anchor in _axis_labels(chart):
        anchor_code = {"start": "la", "middle": "ma", "end": "ra"}[anchor]
        draw_text.text(
            (x(position), bottom + 6), label, fill=(80, 80, 80), font=small, anchor=anchor_code
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def shorten_label(text: str, size: int) -> str:
    """Cut `text` to `size` characters, with an ellipsis when it was longer."""
    return text if len(text) <= size else text[: size - 1] + "\N{HORIZONTAL ELLIPSIS}"


def _format(value: float) -> str:
    return f"{value:.4g}"
