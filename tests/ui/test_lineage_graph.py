"""An artifact's lineage drawn as a graph: artifacts and executions as linked boxes, edges
from inputs to executions to outputs, upstream above the artifact and downstream below."""

from __future__ import annotations

import re
from typing import Any

from shipyard.ui import lineage_graph
from shipyard.ui.lineage_graph import lineage_svg


def _artifact(artifact_id: int, kind: str, node: str, port: str) -> dict[str, Any]:
    return {"id": artifact_id, "type": kind, "name": f"taxi/r1/{node}/{port}"}


def _execution(execution_id: int, node: str, state: str = "complete") -> dict[str, Any]:
    return {"id": execution_id, "run": "r1", "node": node, "state": state, "duration_s": 1.5}


LINEAGE = {
    "artifact": _artifact(3, "Model", "train", "model"),
    "upstream": {
        "execution": _execution(12, "train"),
        "inputs": [
            {
                "port": "examples",
                "artifact": _artifact(1, "Examples", "ingest", "examples"),
                "producer": {"execution": _execution(10, "ingest"), "inputs": []},
            },
            {
                "port": "schema",
                "artifact": _artifact(2, "Schema", "schema", "schema"),
                "producer": None,
            },
        ],
    },
    "downstream": [
        {
            "execution": _execution(13, "evaluate", "failed"),
            "outputs": [
                {
                    "port": "evaluation",
                    "artifact": _artifact(4, "ModelEvaluation", "evaluate", "evaluation"),
                    "consumers": [],
                }
            ],
        }
    ],
}


def _boxes(svg: str) -> dict[str, tuple[str, float]]:
    """Each box's link and the y of its top edge."""
    found = re.findall(r'<a href="([^"]+)"[^>]*>.*?<rect x="[\d.]+" y="([\d.]+)"', svg)
    return {href: (href, float(y)) for href, y in found}


def test_the_lineage_is_drawn_upstream_above_and_downstream_below() -> None:
    svg = lineage_svg(LINEAGE)
    assert svg is not None
    boxes = {href: y for href, (_, y) in _boxes(svg).items()}
    assert set(boxes) == {
        "/artifacts/1/lineage", "/artifacts/2/lineage", "/artifacts/3/lineage",
        "/artifacts/4/lineage", "/runs/r1#node-ingest", "/runs/r1#node-train",
        "/runs/r1#node-evaluate",
    }  # fmt: skip
    order = ["/runs/r1#node-ingest", "/artifacts/1/lineage", "/runs/r1#node-train",
             "/artifacts/3/lineage", "/runs/r1#node-evaluate", "/artifacts/4/lineage"]  # fmt: skip
    assert [boxes[h] for h in order] == sorted(boxes[h] for h in order)
    assert len(set(boxes[h] for h in order)) == len(order)  # one row each: a chain
    assert boxes["/artifacts/2/lineage"] < boxes["/runs/r1#node-train"]
    assert svg.count("<path class=edge") == 6  # into and out of each of the 3 executions
    assert 'data-artifact="3" data-focus="true"' in svg
    assert 'data-kind=execution data-state="failed"' in svg
    assert "<title>#4 ModelEvaluation: evaluate/evaluation</title>" in svg


def test_a_lineage_too_large_to_draw_is_left_to_the_lists(monkeypatch: Any) -> None:
    monkeypatch.setattr(lineage_graph, "MAX_LINEAGE_BOXES", 6)
    assert lineage_svg(LINEAGE) is None
