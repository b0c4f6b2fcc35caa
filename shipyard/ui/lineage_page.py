"""An artifact's lineage page: where it came from and what was made from it, drawn as a graph
(`lineage_graph`) and written as nested lists, both built from `runners.queries.lineage`
(the dict `/api/artifacts/{id}/lineage` returns)."""

from __future__ import annotations

from typing import Any

from shipyard.ui.html import escape, link, page, state_badge
from shipyard.ui.lineage_graph import MAX_LINEAGE_BOXES, lineage_svg


def render_lineage_page(found: dict[str, Any]) -> str:
    """The lineage of one artifact, upstream then downstream; every name links to its page."""
    artifact = found["artifact"]
    upstream = found["upstream"]
    downstream = found["downstream"]
    graph = lineage_svg(found)
    drawn = (
        f"<div class=graph-wrap>{graph}</div>"
        if graph is not None
        else f"<p class=muted>More than {MAX_LINEAGE_BOXES} artifacts and executions: too "
        "many to draw; they are listed below.</p>"
    )
    body = (
        f"<h1>Lineage of {_artifact(artifact)}</h1>"
        "<section aria-labelledby=graph-title><h2 id=graph-title>Graph</h2>"
        f"{drawn}</section>"
        "<section aria-labelledby=up-title><h2 id=up-title>Upstream: how it was made</h2>"
        + (
            f"<ul class=tree>{_made_by(upstream)}</ul>"
            if upstream
            else "<p class=muted>No recorded producer.</p>"
        )
        + "</section><section aria-labelledby=down-title>"
        "<h2 id=down-title>Downstream: what was made from it</h2>"
        + (
            f"<ul class=tree>{''.join(_read_by(tree) for tree in downstream)}</ul>"
            if downstream
            else "<p class=muted>No execution read it.</p>"
        )
        + "</section>"
    )
    return page(f"Lineage of artifact #{artifact['id']}", body)


def _artifact(artifact: dict[str, Any]) -> str:
    label = f"#{artifact['id']} {artifact['type']}"
    name = f"<code>{escape(artifact['name'])}</code>"
    return f"{link('/artifacts/' + str(artifact['id']), label)} {name}"


def _execution(execution: dict[str, Any]) -> str:
    run, node = execution["run"], execution["node"]
    return (
        f"{link(f'/runs/{run}#node-{node}', node)} {state_badge(execution['state'])} "
        f"<span class=muted>in run</span> {link(f'/runs/{run}', run)}"
    )


def _made_by(tree: dict[str, Any]) -> str:
    inputs = "".join(
        f"<li><span class=muted>{escape(entry['port'])}:</span> {_artifact(entry['artifact'])}"
        + (f"<ul>{_made_by(entry['producer'])}</ul>" if entry["producer"] else "")
        + "</li>"
        for entry in tree["inputs"]
    )
    return f"<li>made by {_execution(tree['execution'])}" + (
        f"<ul>{inputs}</ul></li>" if inputs else "</li>"
    )


def _read_by(tree: dict[str, Any]) -> str:
    outputs = "".join(
        f"<li><span class=muted>{escape(entry['port'])}:</span> {_artifact(entry['artifact'])}"
        + (
            f"<ul>{''.join(_read_by(t) for t in entry['consumers'])}</ul>"
            if entry["consumers"]
            else ""
        )
        + "</li>"
        for entry in tree["outputs"]
    )
    return f"<li>read by {_execution(tree['execution'])}" + (
        f"<ul>{outputs}</ul></li>" if outputs else "</li>"
    )
