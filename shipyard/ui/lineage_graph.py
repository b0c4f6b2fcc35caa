"""An artifact's lineage drawn as a graph: artifacts and the executions between them.

Built from `runners.queries.lineage` (the dict `/api/artifacts/{id}/lineage` returns): each
execution upstream links its inputs to its output on the way to the artifact, each one
downstream links the artifact (or an artifact made from it) to its outputs. Laid out by
`dag.lay_out`, as a run's graph: sources on top, the artifact in the middle, what was made
from it below. Artifacts link to their lineage, executions to their node in their run.
"""

from __future__ import annotations

from typing import Any, Final

from shipyard.ui.dag import box, drawing, lay_out
from shipyard.ui.html import duration, escape

MAX_LINEAGE_BOXES: Final = 200
"""Beyond this many artifacts and executions the page shows only the nested lists."""

Boxes = dict[str, tuple[str, str, str, str, str]]
"""Each box's key (`a:ID`, `e:ID`): its link, name, detail line, `<a>` attributes and what
its title adds."""


def lineage_svg(found: dict[str, Any]) -> str | None:
    """The lineage as SVG, or None when it has more than `MAX_LINEAGE_BOXES` boxes."""
    focus = found["artifact"]
    boxes: Boxes = {}
    edges: dict[tuple[str, str], None] = {}
    _add_artifact(boxes, focus, focus=True)
    if found["upstream"]:
        _add_upstream(boxes, edges, found["upstream"], f"a:{focus['id']}")
    for tree in found["downstream"]:
        _add_downstream(boxes, edges, tree, f"a:{focus['id']}")
    if len(boxes) > MAX_LINEAGE_BOXES:
        return None
    layout = lay_out(list(boxes), list(edges))
    drawn = [box(layout.boxes[key], *boxes[key][:4], more=boxes[key][4]) for key in boxes]
    return drawing(layout, drawn, f"Lineage graph of artifact #{focus['id']}: {len(boxes)} boxes")


def _add_artifact(boxes: Boxes, artifact: dict[str, Any], *, focus: bool = False) -> str:
    key = f"a:{artifact['id']}"
    marks = ' data-focus="true"' if focus else ""
    boxes[key] = (
        f"/artifacts/{artifact['id']}/lineage",
        f"#{artifact['id']} {artifact['type']}",
        "/".join(artifact["name"].split("/")[-2:]),  # NODE/PORT of PIPELINE/RUN/NODE/PORT
        f'data-kind=artifact data-artifact="{escape(artifact["id"])}"{marks}',
        "",
    )
    return key


def _add_execution(boxes: Boxes, execution: dict[str, Any]) -> str:
    key = f"e:{execution['id']}"
    took = duration(execution["duration_s"])
    boxes[key] = (
        f"/runs/{execution['run']}#node-{execution['node']}",
        execution["node"],
        f"{execution['state']}{' · ' + took if took else ''}",
        f'data-kind=execution data-state="{escape(execution["state"])}"',
        f" · run {execution['run']}",
    )
    return key


def _add_upstream(
    boxes: Boxes, edges: dict[tuple[str, str], None], tree: dict[str, Any], output: str
) -> None:
    execution = _add_execution(boxes, tree["execution"])
    edges[(execution, output)] = None
    for entry in tree["inputs"]:
        artifact = _add_artifact(boxes, entry["artifact"])
        edges[(artifact, execution)] = None
        if entry["producer"]:
            _add_upstream(boxes, edges, entry["producer"], artifact)


def _add_downstream(
    boxes: Boxes, edges: dict[tuple[str, str], None], tree: dict[str, Any], input_: str
) -> None:
    execution = _add_execution(boxes, tree["execution"])
    edges[(input_, execution)] = None
    for entry in tree["outputs"]:
        artifact = _add_artifact(boxes, entry["artifact"])
        edges[(execution, artifact)] = None
        for consumer in entry["consumers"]:
            _add_downstream(boxes, edges, consumer, artifact)
