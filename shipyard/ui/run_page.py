"""A run's page: its graph, timeline, outcome, and each node's details, from `describe_run`.

While the run is running the page follows it through `/api/runs/{id}/events` (server-sent
events): `ui.js` updates each node's state and reloads the page once the run ends; it tails
each node's log through `/api/runs/{id}/logs/events`.
"""

from __future__ import annotations

import shlex
from typing import Any, Final

from shipyard.runners.node_logs import log_line
from shipyard.ui.dag import MAX_GRAPH_NODES, graph_svg, timeline_svg
from shipyard.ui.html import (
    duration,
    escape,
    key_values,
    link,
    number,
    page,
    state_badge,
    timestamp,
    url,
    value_text,
)

_STOPPED = ("failed", "interrupted")
MAX_LOG_LINES: Final = 1000
"""The most log records a node shows on the page (the API and CLI give them all)."""


def render_run_page(run: dict[str, Any], logs: dict[str, Any]) -> str:
    """The page of one run, given its JSON (`runners.run_json.describe_run`) and its node
    logs (`runners.node_logs.run_logs`)."""
    nodes = run["nodes"]
    live = run["state"] == "running"
    api = url(f"/api/runs/{run['id']}")
    attributes = (
        f' data-events="{escape(api)}/events" data-logs="{escape(api)}/logs/events"' if live else ""
    )
    big = len(nodes) > MAX_GRAPH_NODES
    graph = (
        f"<p class=muted>{len(nodes)} nodes: too many to draw; their states are listed below.</p>"
        if big
        else f"<div class=graph-wrap>{graph_svg(nodes)}</div>"
    )
    body = (
        f'<div class=run{attributes} data-run="{escape(run["id"])}">'
        f"<h1>Run <code>{escape(run['id'])}</code></h1>"
        + _summary(run)
        + _failures(run)
        + f"<section aria-labelledby=graph-title><h2 id=graph-title>Graph</h2>{graph}</section>"
        + (
            ""
            if big
            else "<section aria-labelledby=timeline-title><h2 id=timeline-title>Timeline</h2>"
            f"{timeline_svg(run)}</section>"
        )
        + _outcome(run["outcome"])
        + "<section aria-labelledby=nodes-title><h2 id=nodes-title>Nodes</h2>"
        + "".join(
            _node(name, node, run, logs["nodes"].get(name, {}).get("entries", []))
            for name, node in nodes.items()
        )
        + "</section></div>"
    )
    return page(f"Run {run['id']}", body)


def resume_command(run: dict[str, Any]) -> str | None:
    """The command that runs the pipeline again with the run's parameters (finished nodes
    come from the cache), or None when the run's file is not known."""
    file = run["properties"].get("file")
    if not file:
        return None
    words = ["shipyard", "run", file]
    for name, value in run["parameters"].items():
        words += ["-p", f"{name}={value_text(value)}"]
    return shlex.join(words)


def _summary(run: dict[str, Any]) -> str:
    facts = {
        "Pipeline": escape(run["pipeline"]),
        "State": f"<span data-cell=state>{state_badge(run['state'])}</span>",
        "Started": timestamp(run["started_at"]),
        "Duration": duration(run["duration_s"]),
        "File": escape(run["properties"].get("file", "")),
        "Host": escape(run["properties"].get("host", "")),
    }
    rows = "".join(f"<tr><th scope=row>{k}</th><td>{v}</td></tr>" for k, v in facts.items() if v)
    parameters = key_values(run["parameters"], caption="Parameters")
    return f"<div class=facts><table class=kv>{rows}</table>{parameters}</div>"


def _failures(run: dict[str, Any]) -> str:
    stopped = [name for name, node in run["nodes"].items() if node["state"] in _STOPPED]
    if not stopped:
        return ""
    names = ", ".join(link(f"#node-{name}", name) for name in stopped)
    command = resume_command(run)
    resume = (
        f"<p>Fix the error, then resume with: <code class=command>{escape(command)}</code> "
        "(finished nodes are reused from the cache).</p>"
        if command
        else ""
    )
    return f"<div class=alert role=alert><p>Stopped at {names}.</p>{resume}</div>"


def _outcome(outcome: dict[str, Any]) -> str:
    parts = []
    for node, metrics in outcome["metrics"].items():
        rows = "".join(
            f"<tr><th scope=row>{escape(k)}</th><td class=num>{number(v)}</td></tr>"
            for k, v in metrics.items()
        )
        parts.append(f"<table class=kv><caption>Metrics ({escape(node)})</caption>{rows}</table>")
    for blessing in outcome["blessings"]:
        verdict = "good" if blessing["blessed"] else "bad"
        parts.append(f"<p class={verdict}>{escape(blessing['summary'])}</p>")
    for model in outcome["models"]:
        if model["pushed"]:
            parts.append(
                f"<p>Model {escape(model['name'])} version {escape(model['version'])} pushed "
                f"to <code>{escape(model['path'])}</code>.</p>"
            )
        else:
            parts.append(f"<p class=muted>Nothing pushed: {escape(model['reason'])}</p>")
    if not parts:
        return ""
    return (
        "<section aria-labelledby=outcome-title><h2 id=outcome-title>Outcome</h2>"
        f"<div class=facts>{''.join(parts)}</div></section>"
    )


def _node(
    name: str, node: dict[str, Any], run: dict[str, Any], entries: list[dict[str, str]]
) -> str:
    took = duration(node["duration_s"])
    summary = (
        f"<summary><b>{escape(name)}</b> <span data-cell=state>{state_badge(node['state'])}"
        f"</span> <span class=muted>{escape(node['component'] or '')} {took}</span></summary>"
    )
    details = []
    if node["cached_from"] is not None:
        details.append(
            f"<p>Reused from the cache: the outputs of execution {escape(node['cached_from'])}.</p>"
        )
    if node["error"]:
        details.append(f"<pre class=error>{escape(node['error'].rstrip())}</pre>")
        command = resume_command(run) if node["state"] in _STOPPED else None
        if command:
            details.append(f"<p>Resume with: <code class=command>{escape(command)}</code></p>")
    details.append(key_values(node["parameters"], caption="Parameters"))
    details.append(_ports("Inputs", node["inputs"]))
    details.append(_ports("Outputs", node["outputs"]))
    opened = " open" if node["state"] in _STOPPED else ""
    return (
        f'<details class=node id="node-{escape(name)}" data-node="{escape(name)}"{opened}>'
        f"{summary}<div class=facts>{''.join(details)}</div>{_log(name, node, entries)}"
        "</details>"
    )


def _log(name: str, node: dict[str, Any], entries: list[dict[str, str]]) -> str:
    """The node's log records, the last `MAX_LOG_LINES` of them (`ui.js` appends live ones)."""
    shown = entries[-MAX_LOG_LINES:]
    lines = "".join(
        f'<span data-level="{escape(e["level"])}">{escape(log_line(e))}\n</span>' for e in shown
    )
    if len(entries) > len(shown):
        note = (
            f"<p class=muted>The last {len(shown):,} of {len(entries):,} records; all of them: "
            f"<code>shipyard runs logs RUN --node {escape(name)}</code>.</p>"
        )
    elif not entries:
        note = (
            "<p class=muted data-log-empty>Reused from the cache: it did not run, so no log.</p>"
            if node["cached_from"] is not None
            else "<p class=muted data-log-empty>No log records.</p>"
        )
    else:
        note = ""
    return (
        f'<section class=log aria-label="Log of {escape(name)}"><h3>Log</h3>{note}'
        f'<pre class=log data-log="{escape(name)}" tabindex=0>{lines}</pre></section>'
    )


def _ports(title: str, ports: dict[str, dict[str, Any]]) -> str:
    if not ports:
        return f"<p class=muted>No {title.lower()}.</p>"
    rows = "".join(
        f'<tr data-port="{escape(port)}"><th scope=row>{escape(port)}</th>'
        f"<td>{link(_artifact_url(a), _artifact_label(a))}</td>"
        f"<td class=muted>{escape(a['name'])}</td></tr>"
        for port, a in ports.items()
    )
    return f'<table class="kv {title.lower()}"><caption>{title}</caption>{rows}</table>'


def _artifact_url(artifact: dict[str, Any]) -> str:
    return f"/artifacts/{artifact['id']}"


def _artifact_label(artifact: dict[str, Any]) -> str:
    return f"#{artifact['id']} {artifact['type']}"
