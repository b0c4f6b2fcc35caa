"""The graph layout: layers, and edges routed around the boxes between their ends."""

from __future__ import annotations

import itertools
import re

from shipyard.ui.dag import BOX_H, BOX_W, GraphLayout, edge_path, graph_svg, lay_out


def _hidden_segments(layout: GraphLayout) -> list[str]:
    """Each stretch of an edge that passes behind a box other than its own two ends."""
    found = []
    for (source, target), points in layout.edges.items():
        others = {n: xy for n, xy in layout.boxes.items() if n not in (source, target)}
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            for name, (left, top) in others.items():
                overlaps_rows = min(y1, y2) < top + BOX_H and max(y1, y2) > top
                if not overlaps_rows:
                    continue  # crosses the gap between rows, where no box is
                inside = left < x1 < left + BOX_W or left < x2 < left + BOX_W or x1 != x2
                if inside:
                    found.append(f"{source}->{target} behind {name}")
    return found


def test_an_edge_that_skips_a_layer_goes_around_the_box_in_between() -> None:
    # a -> b -> c and a -> c: b sits right below a and above c, in the straight line a -> c.
    layout = lay_out(["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")])
    assert [layout.boxes[n][1] for n in "abc"] == sorted(layout.boxes[n][1] for n in "abc")
    assert len(layout.edges[("a", "c")]) == 4  # down to b's row, through it, on to c
    assert len(layout.edges[("a", "b")]) == 2
    assert _hidden_segments(layout) == []
    left, _ = layout.boxes["b"]
    x = layout.edges[("a", "c")][1][0]
    assert x < left or x > left + BOX_W
    assert 0 < x < layout.width


def test_long_edges_through_wide_rows_stay_clear_of_every_box() -> None:
    # Five sources, a row of five in between, and a sink reading every source directly.
    sources = [f"s{i}" for i in range(5)]
    middle = [f"m{i}" for i in range(5)]
    edges = [(s, m) for s, m in zip(sources, middle, strict=True)]
    edges += [(m, "sink") for m in middle] + [(s, "sink") for s in sources]
    layout = lay_out([*sources, *middle, "sink"], edges)
    assert _hidden_segments(layout) == []
    assert all(0 <= x <= layout.width for route in layout.edges.values() for x, _ in route)


def test_the_path_follows_the_waypoints() -> None:
    path = edge_path([(10.0, 0.0), (30.0, 20.0), (30.0, 60.0), (50.0, 80.0)])
    assert path == "M10,0 C10,10 30,10 30,20 L30,60 C30,70 50,70 50,80"


def test_graph_svg_draws_every_routed_edge() -> None:
    def node(state: str, inputs: dict[str, int], outputs: dict[str, int]) -> dict[str, object]:
        return {
            "state": state,
            "duration_s": 1.0,
            "inputs": {port: {"id": i} for port, i in inputs.items()},
            "outputs": {port: {"id": i} for port, i in outputs.items()},
        }

    svg = graph_svg(
        {
            "ingest": node("complete", {}, {"examples": 1}),
            "transform": node("complete", {"examples": 1}, {"transformed": 2}),
            "train": node("failed", {"examples": 1, "transformed": 2}, {}),
        }
    )
    paths = re.findall(r'<path class=edge d="([^"]+)"', svg)
    assert len(paths) == 3
    segments = sorted(len(re.findall(r" [LC]", p)) for p in paths)
    assert segments == [1, 1, 3]  # ingest -> train: to transform's row, past it, to train
    assert 'data-node="train" data-state="failed"' in svg
