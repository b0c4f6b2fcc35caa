"""Charts as plain shapes, drawn once and rendered as inline SVG (reports) or PNG (terminal).

A chart is laid out on a `Canvas` in pixels: rectangles, polylines, dots and text. The same
canvas becomes an `<svg>` element (no script, no external reference; it scales down to fit
its container) or a PNG image drawn with Pillow, so the HTML reports and `shipyard stats
--png` show the same axes, ticks and labels. `draw_axes` draws a framed plot area with
ticks chosen so that their labels never overlap.
"""

from __future__ import annotations

import html
import io
import math
from dataclasses import dataclass, field
from typing import Literal

Anchor = Literal["start", "middle", "end"]
CHAR_WIDTH = 0.62
"""A label's width per character, as a fraction of the font size (a generous estimate)."""
AXIS_COLOR = "#6b7280"
TEXT_COLOR = "#374151"


@dataclass(frozen=True)
class Rect:
    """A filled rectangle; `title` becomes its tooltip in SVG."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    opacity: float = 1.0
    title: str = ""


@dataclass(frozen=True)
class Polyline:
    """A line through `points`, optionally dashed."""

    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float = 1.0
    dashed: bool = False


@dataclass(frozen=True)
class Dot:
    """A small filled circle; `title` becomes its tooltip in SVG."""

    x: float
    y: float
    radius: float
    fill: str
    opacity: float = 1.0
    title: str = ""


@dataclass(frozen=True)
class Text:
    """A label whose baseline starts, is centred or ends at (`x`, `y`); `vertical` turns it
    90 degrees counter-clockwise around that point."""

    x: float
    y: float
    text: str
    size: float = 10.0
    anchor: Anchor = "start"
    color: str = TEXT_COLOR
    bold: bool = False
    vertical: bool = False

    @property
    def width(self) -> float:
        """The label's estimated width in pixels."""
        return text_width(self.text, self.size)


Shape = Rect | Polyline | Dot | Text


@dataclass
class Canvas:
    """A chart's shapes in drawing order, on a `width` x `height` pixel area."""

    width: float
    height: float
    label: str
    shapes: list[Shape] = field(default_factory=list)

    def add(self, *shapes: Shape) -> None:
        """Append shapes, drawn above the earlier ones."""
        self.shapes.extend(shapes)

    def texts(self) -> list[Text]:
        """Return the labels, for layout checks."""
        return [shape for shape in self.shapes if isinstance(shape, Text)]


@dataclass(frozen=True)
class Scale:
    """Maps values in [`low`, `high`] linearly to pixels in [`start`, `end`]."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return self.start + (value - self.low) / span * (self.end - self.start)


def text_width(text: str, size: float) -> float:
    """Return the estimated width of `text` in pixels at font `size`."""
    return len(text) * size * CHAR_WIDTH


def nice_ticks(low: float, high: float, max_ticks: int) -> list[float]:
    """Return at most `max_ticks` round values (steps of 1, 2 or 5 x 10^k) in [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low or max_ticks < 2:
        return [low] if math.isfinite(low) else []
    power = 10 ** math.floor(math.log10((high - low) / max_ticks))
    for step in (m * power * scale for scale in (1, 10, 100) for m in (1, 2, 2.5, 5)):
        first = math.ceil(low / step - 1e-9)
        last = math.floor(high / step + 1e-9)
        if last - first + 1 <= max_ticks:
            return [0.0 if i == 0 else float(i * step) for i in range(first, last + 1)]
    return [low, high]


def format_tick(value: float, *, percent: bool = False) -> str:
    """Format a tick compactly: `0.25`, `1,200`, `2,007.5`, `35k`, `2.5M`, `1e-05`; `25%` for
    fractions."""
    if percent:
        return f"{100 * value:.3g}%"
    magnitude = abs(value)
    if magnitude >= 1e15 or (0 < magnitude < 1e-3):
        return f"{value:.2g}"
    for threshold, unit, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if magnitude >= threshold:
            return f"{value / unit:.3g}{suffix}"
    if float(value).is_integer():
        return f"{int(value):,}"
    if magnitude >= 1e3:  # `.3g` would write 2007.5 as 2.01e+03
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


@dataclass(frozen=True)
class Axis:
    """What one axis shows: the value range, an optional title, percent tick labels; no
    ticks for an axis of categories."""

    low: float
    high: float
    title: str = ""
    percent: bool = False
    ticks: bool = True


def draw_axes(
    canvas: Canvas,
    x: Axis,
    y: Axis,
    *,
    left: float = 40.0,
    right: float = 10.0,
    top: float = 8.0,
    bottom: float = 30.0,
    size: float = 10.0,
) -> tuple[Scale, Scale]:
    """Draw a plot frame with ticks and tick labels on both axes, and the axis titles.

    Args:
        canvas: Where to draw.
        x: The horizontal axis.
        y: The vertical axis.
        left: Pixels left of the plot area (y tick labels, y title).
        right: Pixels right of the plot area.
        top: Pixels above the plot area.
        bottom: Pixels below the plot area (x tick labels, x title).
        size: The tick labels' font size.

    Returns:
        The x and y scales from values to pixels.
    """
    x_scale = Scale(x.low, x.high, left, canvas.width - right)
    y_scale = Scale(y.low, y.high, canvas.height - bottom, top)
    x0, x1, y0, y1 = x_scale.start, x_scale.end, y_scale.start, y_scale.end
    canvas.add(Polyline(((x0, y1), (x0, y0), (x1, y0)), AXIS_COLOR))
    for tick in _fitting_ticks(x, x1 - x0, size, horizontal=True):
        px = x_scale(tick)
        label = format_tick(tick, percent=x.percent)
        half = text_width(label, size) / 2
        anchor: Anchor = "middle"
        if px - half < 0:
            anchor = "start"
        elif px + half > canvas.width:
            anchor = "end"
        canvas.add(
            Polyline(((px, y0), (px, y0 + 4)), AXIS_COLOR),
            Text(px, y0 + 5 + size, label, size, anchor),
        )
    for tick in _fitting_ticks(y, y0 - y1, size, horizontal=False):
        py = y_scale(tick)
        canvas.add(
            Polyline(((x0 - 4, py), (x0, py)), AXIS_COLOR),
            Text(x0 - 6, py + size * 0.35, format_tick(tick, percent=y.percent), size, "end"),
        )
    if x.title:
        canvas.add(Text((x0 + x1) / 2, canvas.height - 3, x.title, size, "middle"))
    if y.title:
        canvas.add(Text(size + 1, (y0 + y1) / 2, y.title, size, "middle", vertical=True))
    return x_scale, y_scale


def _fitting_ticks(axis: Axis, length: float, size: float, *, horizontal: bool) -> list[float]:
    """Return the most ticks (up to 6) whose labels fit along `length` pixels apart."""
    if not axis.ticks:
        return []
    for count in range(6, 1, -1):
        ticks = nice_ticks(axis.low, axis.high, count)
        labels = [format_tick(t, percent=axis.percent) for t in ticks]
        span = (axis.high - axis.low) or 1.0
        room = (ticks[1] - ticks[0]) / span * length if len(ticks) > 1 else length
        needed = max((text_width(s, size) for s in labels), default=0) if horizontal else size
        if needed + 6 <= room or len(ticks) <= 2:
            return ticks
    return []


def render_svg(canvas: Canvas) -> str:
    """Return the canvas as an `<svg>` element: its own size at most, narrower to fit its box."""
    parts = []
    for shape in canvas.shapes:
        if isinstance(shape, Rect):
            tip = f"<title>{html.escape(shape.title)}</title>" if shape.title else ""
            parts.append(
                f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{max(shape.width, 0.5):.1f}" '
                f'height="{max(shape.height, 0):.1f}" fill="{shape.fill}" '
                f'fill-opacity="{shape.opacity:g}">{tip}</rect>'
            )
        elif isinstance(shape, Polyline):
            points = " ".join(f"{px:.1f},{py:.1f}" for px, py in shape.points)
            dash = ' stroke-dasharray="4 3"' if shape.dashed else ""
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{shape.stroke}" '
                f'stroke-width="{shape.width:g}"{dash}/>'
            )
        elif isinstance(shape, Dot):
            tip = f"<title>{html.escape(shape.title)}</title>" if shape.title else ""
            parts.append(
                f'<circle cx="{shape.x:.1f}" cy="{shape.y:.1f}" r="{shape.radius:g}" '
                f'fill="{shape.fill}" fill-opacity="{shape.opacity:g}">{tip}</circle>'
            )
        else:
            turn = f' transform="rotate(-90 {shape.x:.1f} {shape.y:.1f})"' if shape.vertical else ""
            weight = ' font-weight="600"' if shape.bold else ""
            parts.append(
                f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size:g}" '
                f'fill="{shape.color}" text-anchor="{shape.anchor}"{weight}{turn}>'
                f"{html.escape(shape.text)}</text>"
            )
    return (
        f'<svg class="chart" width="{canvas.width:g}" height="{canvas.height:g}" '
        f'viewBox="0 0 {canvas.width:g} {canvas.height:g}" role="img" '
        f'aria-label="{html.escape(canvas.label)}" '
        f'style="width:100%;max-width:{canvas.width:g}px;height:auto" '
        'font-family="system-ui, sans-serif">'
        f"{''.join(parts)}</svg>"
    )


def render_png(canvas: Canvas, *, scale: float = 1.0) -> bytes:
    """Return the canvas as an RGB PNG image, `scale` times its size in pixels."""
    from PIL import Image, ImageDraw, ImageFont

    size = (round(canvas.width * scale), round(canvas.height * scale))
    image = Image.new("RGBA", size, "white")
    for shape in canvas.shapes:
        layer = Image.new("RGBA", size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        if isinstance(shape, Rect):
            box = [shape.x, shape.y, shape.x + max(shape.width, 1), shape.y + shape.height]
            draw.rectangle([v * scale for v in box], fill=_rgba(shape.fill, shape.opacity))
        elif isinstance(shape, Polyline):
            points = [(px * scale, py * scale) for px, py in shape.points]
            draw.line(points, fill=_rgba(shape.stroke, 1.0), width=max(round(shape.width), 1))
        elif isinstance(shape, Dot):
            r = shape.radius * scale
            cx, cy = shape.x * scale, shape.y * scale
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_rgba(shape.fill, shape.opacity))
        else:
            font = ImageFont.load_default(size=shape.size * scale)
            anchor = {"start": "ls", "middle": "ms", "end": "rs"}[shape.anchor]
            fill = _rgba(shape.color, 1.0)
            if shape.vertical:
                label = Image.new("RGBA", size[::-1], (0, 0, 0, 0))
                x, y = size[1] - shape.y * scale, shape.x * scale
                ImageDraw.Draw(label).text((x, y), shape.text, fill=fill, font=font, anchor=anchor)
                layer = label.rotate(90, expand=True)
            else:
                xy = (shape.x * scale, shape.y * scale)
                draw.text(xy, shape.text, fill=fill, font=font, anchor=anchor)
        image = Image.alpha_composite(image, layer)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def _rgba(color: str, opacity: float) -> tuple[int, int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16), round(255 * opacity)
