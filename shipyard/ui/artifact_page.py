"""An artifact's page: its record, producer and consumers, preview, and its HTML reports.

Statistics, anomalies and evaluations write `report.html` (and other pages) at the top of
their directory; the page embeds each one in a frame served by `/artifacts/{id}/files/NAME`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shipyard.ui.html import escape, key_values, link, page, state_badge, timestamp, url
from shipyard.ui.model_run_viewer import render_model_run
from shipyard.ui.model_viewer import render_model
from shipyard.ui.schema_viewer import render_schema

if TYPE_CHECKING:
    from pathlib import Path


def report_names(directory: Path) -> list[str]:
    """The HTML pages at the top of an artifact's local directory, sorted; [] when none."""
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.suffix == ".html" and p.is_file())


def top_files(directory: Path) -> list[str]:
    """The files at the top of an artifact's local directory (what its file route serves)."""
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.is_file())


def media_type(name: str) -> str:
    """The media type a file is served with: HTML reports as pages, text as UTF-8 text (a
    browser shows YAML, JSON and Markdown), anything else as bytes to download."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix == "html":
        return "text/html"
    if suffix == "json":
        return "application/json"
    if suffix in {"yaml", "yml", "md", "txt", "csv"}:
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def render_artifact_page(
    artifact: dict[str, Any], reports: list[str], *, sort: str | None = None
) -> str:
    """The page of one artifact, given its JSON (`runners.queries.show_artifact`).

    A schema, model or model run gets its own viewer in place of the JSON preview; `sort`
    orders the schema's features (see `shipyard.ui.schema_viewer`).
    """
    facts = {
        "Type": escape(artifact["type"]),
        "Path": f"<code>{escape(artifact['name'])}</code>",
        "URI": f"<code>{escape(artifact['uri'])}</code>",
        "State": state_badge(artifact["state"]),
        "Fingerprint": f"<code>{escape(artifact['fingerprint'])}</code>",
        "Created": timestamp(artifact["created_at"]),
        "Lineage": link(f"/artifacts/{artifact['id']}/lineage", "upstream and downstream")
        + " · "
        + link(f"/api/artifacts/{artifact['id']}/lineage", "as JSON"),
    }
    rows = "".join(f"<tr><th scope=row>{k}</th><td>{v}</td></tr>" for k, v in facts.items())
    producer = artifact["producer"]
    made_by = (
        f"<p>Produced by {_execution(producer)}.</p>"
        if producer
        else "<p class=muted>No producer recorded.</p>"
    )
    consumers = "".join(f"<li>{_execution(e)}</li>" for e in artifact["consumers"])
    used = (
        f"<p>Read by:</p><ul>{consumers}</ul>"
        if consumers
        else "<p class=muted>Not read by any execution.</p>"
    )
    frames = "".join(
        f'<section aria-label="{escape(name)}"><h2>{escape(name)}</h2>'
        f"<p>{link(_file(artifact, name), 'Open in its own tab', target='_blank')}</p>"
        f'<iframe class=report title="{escape(artifact["type"])} {escape(name)}" '
        f'src="{escape(url(_file(artifact, name)))}" loading=lazy></iframe></section>'
        for name in reports
    )
    preview = artifact["preview"]
    viewer = _viewer(artifact, sort) if preview and "error" not in preview else ""
    shown = viewer or (
        f"<details><summary>Preview</summary><pre>{escape(json.dumps(preview, indent=2))}</pre>"
        "</details>"
        if preview
        else ""
    )
    body = (
        f"<h1>Artifact #{escape(artifact['id'])} <small>{escape(artifact['type'])}</small></h1>"
        f"<div class=facts><table class=kv>{rows}</table>"
        f"{key_values(artifact['properties'], caption='Properties')}</div>"
        f"<section aria-labelledby=use-title><h2 id=use-title>Producer and consumers</h2>"
        f"{made_by}{used}</section>{shown}{frames}"
    )
    return page(f"Artifact #{artifact['id']}", body)


def _viewer(artifact: dict[str, Any], sort: str | None) -> str:
    """The type's own viewer of the artifact's content; "" for a type without one."""
    kind = artifact["type"]
    if kind == "Schema":
        return render_schema(artifact, sort=sort)
    if kind == "Model":
        return render_model(artifact)
    if kind == "ModelRun":
        return render_model_run(artifact)
    return ""


def _execution(execution: dict[str, Any]) -> str:
    run = execution["run"]
    node = execution["node"]
    return (
        f"{link(f'/runs/{run}#node-{node}', node)} in run {link(f'/runs/{run}', run)} "
        f"({state_badge(execution['state'])})"
    )


def _file(artifact: dict[str, Any], name: str) -> str:
    return f"/artifacts/{artifact['id']}/files/{name}"
