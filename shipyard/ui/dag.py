"""A run's pipeline as server-side SVG: the graph of its nodes, and their durations.

The graph is laid out top to bottom in layers (a node sits one layer below the lowest of the
nodes it reads from), each node drawn with its state, each edge routed between the boxes
it passes (`lay_out`, which other graphs of the UI use too). Edges come from the recorded inputs:
a node that has not started yet has no recorded inputs, so it is drawn without them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from shipyard.ui.html import duration, escape, url

MAX_GRAPH_NODES: Final = 300
"""Beyond this many nodes the run page shows a status table instead of the graph."""

BOX_W: Final = 180
"""A box's width in the graph."""
BOX_H: Final = 40
"""A box's height."""
_GAP_X: Final = 24
_GAP_Y: Final = 34
_MAX_PER_ROW: Final = 5
_NAME_CHARS: Final = 22
_DETAIL_CHARS: Final = 27
_LABEL_CHARS: Final = 26


def edges_of(nodes: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """The `(producer, consumer)` pairs of a run's JSON `nodes`, from the recorded events."""
    producer = {
        artifact["id"]: name
        for name, node in nodes.items()
        for artifact in node["outputs"].values()
    }
    edges: dict[tuple[str, str], None] = {}
    for name, node in nodes.items():
        for artifact in node["inputs"].values():
            source = producer.get(artifact["id"])
            if source is not None and source != name:
                edges[(source, name)] = None
    return list(edges)


def layers_of(names: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's layer: 0 for a node that reads nothing, else one below its inputs."""
    parents: dict[str, list[str]] = {name: [] for name in names}
    for source, target in edges:
        parents[target].append(source)
    layer: dict[str, int] = {}

    def place(name: str, seen: frozenset[str]) -> int:
        if name not in layer:
            above = [place(p, seen | {name}) for p in parents[name] if p not in seen]
            layer[name] = 1 + max(above, default=-1)
        return layer[name]

    for name in names:
        place(name, frozenset())
    return layer


Point = tuple[float, float]


@dataclass(frozen=True)
class GraphLayout:
    """Where a layered graph's boxes and edges go, in SVG units.

    Attributes:
        width: The drawing's width.
        height: Its height.
        boxes: Each box's top-left corner (every box is `BOX_W` by `BOX_H`).
        edges: Each `(source, target)` edge's waypoints, from the bottom of the source's box
            to the top of the target's; between consecutive waypoints the edge either crosses
            the gap between two rows or runs straight down through a row, clear of its boxes.
    """

    width: float
    height: float
    boxes: dict[str, Point]
    edges: dict[tuple[str, str], list[Point]]


def lay_out(names: list[str], edges: list[tuple[str, str]]) -> GraphLayout:
    """Lay a graph out top to bottom in layers; a layer of more than 5 boxes wraps.

    An edge that crosses rows between its ends passes each of them through the gap between
    boxes nearest its straight line, so no box hides it.
    """
    layer = layers_of(names, edges)
    layers: dict[int, list[str]] = {}
    for name in names:
        layers.setdefault(layer[name], []).append(name)
    # A wide layer (nodes whose inputs are not recorded yet) wraps, so boxes stay readable.
    rows = [
        layers[depth][start : start + _MAX_PER_ROW]
        for depth in sorted(layers)
        for start in range(0, len(layers[depth]), _MAX_PER_ROW)
    ]
    widest = max((len(r) for r in rows), default=1)
    width = widest * (BOX_W + _GAP_X) + _GAP_X
    where: dict[str, Point] = {}
    row_of: dict[str, int] = {}
    for depth, row in enumerate(rows):
        offset = (width - len(row) * (BOX_W + _GAP_X) + _GAP_X) / 2
        for index, name in enumerate(row):
            where[name] = (offset + index * (BOX_W + _GAP_X), _GAP_Y + depth * (BOX_H + _GAP_Y))
            row_of[name] = depth
    routes = {}
    for source, target in edges:
        a = (where[source][0] + BOX_W / 2, where[source][1] + BOX_H)
        b = (where[target][0] + BOX_W / 2, where[target][1])
        points = [a]
        for depth in range(row_of[source] + 1, row_of[target]):
            top = where[rows[depth][0]][1]
            share = (top + BOX_H / 2 - a[1]) / (b[1] - a[1])
            x = _clear_of_boxes(a[0] + (b[0] - a[0]) * share, [where[n][0] for n in rows[depth]])
            points += [(x, top - _GAP_Y / 4), (x, top + BOX_H + _GAP_Y / 4)]
        routes[(source, target)] = [*points, b]
    height = len(rows) * (BOX_H + _GAP_Y) + _GAP_Y
    return GraphLayout(width, height, where, routes)


def _clear_of_boxes(x: float, lefts: list[float]) -> float:
    """`x` if it passes no box of a row (boxes at `lefts`), else the middle of the nearest gap."""
    if all(not left - _GAP_X / 4 < x < left + BOX_W + _GAP_X / 4 for left in lefts):
        return x
    gaps = [left - _GAP_X / 2 for left in lefts] + [lefts[-1] + BOX_W + _GAP_X / 2]
    return min(gaps, key=lambda gap: abs(gap - x))


def edge_path(points: list[Point]) -> str:
    """An SVG path through an edge's waypoints: straight down, or a curve across a gap."""
    path = f"M{points[0][0]:.0f},{points[0][1]:.0f}"
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        if x1 == x2:
            path += f" L{x2:.0f},{y2:.0f}"
        else:
            middle = (y1 + y2) / 2
            path += f" C{x1:.0f},{middle:.0f} {x2:.0f},{middle:.0f} {x2:.0f},{y2:.0f}"
    return path


def graph_svg(nodes: dict[str, dict[str, Any]]) -> str:
    """The pipeline graph with each node's state; a node links to its section of the page."""
    layout = lay_out(list(nodes), edges_of(nodes))
    boxes = []
    for name, node in nodes.items():
        state = node["state"]
        detail = state + (f" · {duration(node['duration_s'])}" if node["duration_s"] else "")
        attributes = f'data-node="{escape(name)}" data-state="{escape(state)}"'
        boxes.append(box(layout.boxes[name], f"#node-{name}", name, detail, attributes))
    return drawing(layout, boxes, f"Pipeline graph of {len(nodes)} nodes")


def box(where: Point, href: str, name: str, detail: str, attributes: str, *, more: str = "") -> str:
    """A linked box at `where`: its name over a detail line, each cut to fit, both whole in
    its title (a tooltip, and what a screen reader says).

    Args:
        where: The box's top-left corner (from `GraphLayout.boxes`).
        href: Where it links to.
        name: Its first line.
        detail: Its second line.
        attributes: More attributes of its `<a>`, already escaped (`data-state="..."`).
        more: Said in the title only, after the detail.
    """
    x, y = where
    label = name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"
    title = f"{name}: {detail}{more}"
    detail = detail if len(detail) <= _DETAIL_CHARS else detail[: _DETAIL_CHARS - 1] + "…"
    return (
        f'<a href="{escape(url(href))}" {attributes}>'
        f"<title>{escape(title)}</title>"
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx=6 />'
        f'<text x="{x + 10:.0f}" y="{y + 16:.0f}" class=name>{escape(label)}</text>'
        f'<text x="{x + 10:.0f}" y="{y + 32:.0f}" class=detail>{escape(detail)}</text></a>'
    )


def drawing(layout: GraphLayout, boxes: list[str], label: str) -> str:
    """The SVG of a laid-out graph: its edges as arrows, then its `boxes` over them."""
    lines = [f'<path class=edge d="{edge_path(points)}"/>' for points in layout.edges.values()]
    return (
        f'<svg class=graph viewBox="0 0 {layout.width} {layout.height}" width="{layout.width}" '
        f'role=img aria-label="{escape(label)}">'
        '<defs><marker id=arrow viewBox="0 0 8 8" refX=8 refY=4 markerWidth=8 markerHeight=8 '
        'orient=auto><path d="M0,0 L8,4 L0,8 z"/></marker></defs>'
        f"{''.join(lines)}{''.join(boxes)}</svg>"
    )


def timeline_svg(run: dict[str, Any], *, now: datetime | None = None) -> str:
    """Each started node as a bar from its start to its end (to now while it runs)."""
    started = datetime.fromisoformat(run["started_at"])
    now = now or datetime.now(UTC)
    spans = []
    for name, node in run["nodes"].items():
        if node["started_at"] is None:
            continue
        begin = (datetime.fromisoformat(node["started_at"]) - started).total_seconds()
        length = node["duration_s"]
        if length is None:
            length = max(0.0, (now - started).total_seconds() - begin)
        spans.append((name, node, max(0.0, begin), length))
    if not spans:
        return "<p class=muted>No node has started yet.</p>"
    total = max(begin + length for _, _, begin, length in spans) or 1.0
    row_h, left, right, width = 22, 200, 680, 760
    parts = []
    for index, (name, node, begin, length) in enumerate(spans):
        y = 6 + index * row_h
        x = left + (right - left) * begin / total
        w = max(2.0, (right - left) * length / total)
        label = name if len(name) <= _LABEL_CHARS else name[: _LABEL_CHARS - 1] + "…"
        shown = node["state"] in ("cached", "skipped")
        took = node["state"] if shown else duration(node["duration_s"])
        parts.append(
            f'<g data-node="{escape(name)}" data-state="{escape(node["state"])}">'
            f"<title>{escape(name)}: {escape(node['state'])}, {escape(took)}</title>"
            f'<text x=4 y="{y + 14}" class=name>{escape(label)}</text>'
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height=14 rx=3 />'
            f'<text x="{width - 4}" y="{y + 14}" class=detail text-anchor=end>{escape(took)}</text>'
            "</g>"
        )
    height = 12 + len(spans) * row_h
    return (
        f'<svg class=timeline viewBox="0 0 {width} {height}" role=img '
        f'aria-label="Node durations, {total:.2f} s in all">{"".join(parts)}</svg>'
    )
