"""A run's pipeline as server-side SVG: the graph of its nodes, and their durations.

The graph is laid out top to bottom in layers (a node sits one layer below the lowest of the
nodes it reads from), each node drawn with its state. Edges come from the recorded inputs:
a node that has not started yet has no recorded inputs, so it is drawn without them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from shipyard.ui.html import duration, escape

MAX_GRAPH_NODES: Final = 300
"""Beyond this many nodes the run page shows a status table instead of the graph."""

_BOX_W: Final = 180
_BOX_H: Final = 40
_GAP_X: Final = 24
_GAP_Y: Final = 34
_MAX_PER_ROW: Final = 5
_NAME_CHARS: Final = 22
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


def graph_svg(nodes: dict[str, dict[str, Any]]) -> str:
    """The pipeline graph with each node's state; a node links to its section of the page."""
    names = list(nodes)
    edges = edges_of(nodes)
    layer = layers_of(names, edges)
    layers: dict[int, list[str]] = {}
    for name in names:
        layers.setdefault(layer[name], []).append(name)
    # A wide layer (nodes whose inputs are not recorded yet) wraps, so boxes stay readable.
    rows = dict(
        enumerate(
            layers[depth][start : start + _MAX_PER_ROW]
            for depth in sorted(layers)
            for start in range(0, len(layers[depth]), _MAX_PER_ROW)
        )
    )
    widest = max((len(r) for r in rows.values()), default=1)
    width = widest * (_BOX_W + _GAP_X) + _GAP_X
    height = len(rows) * (_BOX_H + _GAP_Y) + _GAP_Y
    where: dict[str, tuple[float, float]] = {}
    for depth, row in rows.items():
        offset = (width - len(row) * (_BOX_W + _GAP_X) + _GAP_X) / 2
        for index, name in enumerate(row):
            where[name] = (offset + index * (_BOX_W + _GAP_X), _GAP_Y + depth * (_BOX_H + _GAP_Y))
    lines = []
    for source, target in edges:
        (x1, y1), (x2, y2) = where[source], where[target]
        a = (x1 + _BOX_W / 2, y1 + _BOX_H)
        b = (x2 + _BOX_W / 2, y2)
        middle = (a[1] + b[1]) / 2
        lines.append(
            f'<path class=edge d="M{a[0]:.0f},{a[1]:.0f} C{a[0]:.0f},{middle:.0f} '
            f'{b[0]:.0f},{middle:.0f} {b[0]:.0f},{b[1]:.0f}"/>'
        )
    boxes = [_box(name, nodes[name], *where[name]) for name in names]
    return (
        f'<svg class=graph viewBox="0 0 {width} {height}" width="{width}" role=img '
        f'aria-label="Pipeline graph of {len(names)} nodes">'
        '<defs><marker id=arrow viewBox="0 0 8 8" refX=8 refY=4 markerWidth=8 markerHeight=8 '
        'orient=auto><path d="M0,0 L8,4 L0,8 z"/></marker></defs>'
        f"{''.join(lines)}{''.join(boxes)}</svg>"
    )


def _box(name: str, node: dict[str, Any], x: float, y: float) -> str:
    state = node["state"]
    label = name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"
    detail = state + (f" · {duration(node['duration_s'])}" if node["duration_s"] else "")
    return (
        f'<a href="#node-{escape(name)}" data-node="{escape(name)}" data-state="{escape(state)}">'
        f"<title>{escape(name)}: {escape(detail)}</title>"
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx=6 />'
        f'<text x="{x + 10:.0f}" y="{y + 16:.0f}" class=name>{escape(label)}</text>'
        f'<text x="{x + 10:.0f}" y="{y + 32:.0f}" class=detail>{escape(detail)}</text></a>'
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
