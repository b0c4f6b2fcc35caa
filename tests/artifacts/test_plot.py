"""Charts as shapes: round ticks, compact tick labels that never overlap, SVG and PNG output."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image

from shipyard.artifacts import plot


@pytest.mark.parametrize(
    ("low", "high", "count", "expected"),
    [
        (0.0, 1.0, 6, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.37, 12.2, 5, [2.5, 5.0, 7.5, 10.0]),
        (-3.0, 3.0, 4, [-2.0, 0.0, 2.0]),
        (1000.0, 51000.0, 3, [20000.0, 40000.0]),
        (2.0, 2.0, 5, [2.0]),
    ],
)
def test_nice_ticks_are_round_and_inside_the_range(
    low: float, high: float, count: int, expected: list[float]
) -> None:
    assert plot.nice_ticks(low, high, count) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "percent", "text"),
    [
        (0.25, True, "25%"),
        (0.003, True, "0.3%"),
        (1200.0, False, "1,200"),
        (2007.5, False, "2,007.5"),  # not 2.01e+03: between the ticks 2,007 and 2,008
        (35000.0, False, "35k"),
        (2.5e6, False, "2.5M"),
        (-0.5, False, "-0.5"),
        (1e-5, False, "1e-05"),
        (0.0, False, "0"),
    ],
)
def test_tick_labels_are_compact(value: float, percent: bool, text: str) -> None:
    assert plot.format_tick(value, percent=percent) == text


@pytest.mark.parametrize("width", [120, 200, 320, 800])
@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (-1.234e-4, 9.9e-4), (1e6, 9.87e7)])
def test_axes_have_ticks_whose_labels_never_overlap(width: int, low: float, high: float) -> None:
    canvas = plot.Canvas(width, 150, "chart")
    plot.draw_axes(canvas, plot.Axis(low, high, "value"), plot.Axis(0.0, 0.3, "share", True))
    labels = [t for t in canvas.texts() if not t.vertical and t.text not in ("value",)]
    x_labels = [t for t in labels if t.anchor != "end" or t.y > 100]
    assert len(x_labels) >= 2 and any(t.text.endswith("%") for t in labels)
    for a, b in itertools.combinations(x_labels, 2):
        assert _right(a) + 1 < _left(b) or _right(b) + 1 < _left(a), (a, b)
    for label in labels:
        assert _left(label) >= 0 and _right(label) <= width, label


def _left(text: plot.Text) -> float:
    return text.x - {"start": 0.0, "middle": text.width / 2, "end": text.width}[text.anchor]


def _right(text: plot.Text) -> float:
    return _left(text) + text.width


def test_svg_escapes_text_and_scales_down() -> None:
    canvas = plot.Canvas(200, 100, "a <chart>")
    canvas.add(plot.Text(10, 10, "<b>&"), plot.Rect(0, 0, 5, 5, "#112233", 0.5, "tip <x>"))
    svg = plot.render_svg(canvas)
    assert "&lt;b&gt;&amp;" in svg and "<b>" not in svg and "tip &lt;x&gt;" in svg
    assert 'viewBox="0 0 200 100"' in svg and "max-width:200px" in svg
    assert "<script" not in svg and "href" not in svg


def test_png_draws_axes_ticks_and_labels() -> None:
    canvas = plot.Canvas(200, 120, "chart")
    x, y = plot.draw_axes(canvas, plot.Axis(0.0, 10.0, "value"), plot.Axis(0.0, 1.0, "rows"))
    image = Image.open(io.BytesIO(plot.render_png(canvas, scale=2.0))).convert("RGB")
    assert image.size == (400, 240)
    axis = tuple(int(plot.AXIS_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    # the x axis runs along the plot's bottom, the y axis along its left side
    bottom, left = round(y(0.0) * 2), round(x(0.0) * 2)
    assert image.getpixel((round(x(5.0) * 2), bottom)) == axis
    assert image.getpixel((left, round(y(0.5) * 2))) == axis
    # tick labels are drawn below the axis
    below = image.crop((left, bottom + 4, 400, 240))
    assert len(below.getcolors(maxcolors=1 << 16) or []) > 5
