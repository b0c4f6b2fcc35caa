"""The models page: each model's versions, labels, blessings, promotion decisions and, with
`shipyard ui --server URL`, what that server serves and each version's live request rate.

Built from the dict `/api/models` returns (`shipyard models --json`). The request rate is
the change in a version's request count between two reads of `/api/models`, which the
page's script makes every 2 s (`data-models`); the first read shows the count so far.
"""

from __future__ import annotations

from typing import Any

from shipyard.ui.html import escape, link, page, timestamp, url, verdict

REFRESH_S = 2
"""How often the page reads `/api/models` again while a server is named."""


def render_models_page(models: dict[str, Any], *, server: str | None) -> str:
    """Every model with its versions and decisions; a note when no model was found."""
    listed = models["models"]
    served = (
        f"<p>Serving figures from <code>{escape(server)}</code> (its <code>/metrics</code>), "
        f"refreshed every {REFRESH_S} s.</p>"
        if server is not None
        else "<p class=muted>Start the UI with <code>--server URL</code> (a running "
        "<code>shipyard serve</code>) to see what it serves and each version's request "
        "rate.</p>"
    )
    if not listed:
        body = f"<h1>Models</h1>{served}<p class=muted>No model found.</p>"
    else:
        body = f"<h1>Models</h1>{served}" + "".join(_model(model) for model in listed)
    live = f' data-models="{escape(url("/api/models"))}"' if server is not None else ""
    return page("Models", f"<div class=models{live}>{body}</div>")


def _model(model: dict[str, Any]) -> str:
    name = model["name"]
    canary = model["canary_percent"]
    share = f" · canary takes {canary:g}% of unlabeled requests" if canary else ""
    error = (
        f"<p class=alert role=alert>{escape(model['server_error'])}</p>"
        if model["server_error"]
        else ""
    )
    rows = "".join(_version(name, version) for version in model["versions"])
    table = (
        f'<div class=table-wrap><table class=versions data-model="{escape(name)}">'
        f"<caption>Versions of {escape(name)}, newest first</caption>"
        "<thead><tr><th scope=col>Version</th><th scope=col>Labels</th>"
        "<th scope=col>Blessed</th><th scope=col>Infra blessed</th>"
        "<th scope=col>Pushed by</th><th scope=col>Served</th>"
        "<th scope=col class=num>Requests</th><th scope=col class=num>Requests/s</th>"
        "<th scope=col class=num>Errors</th><th scope=col class=num>Mean latency</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
        if rows
        else "<p class=muted>No version.</p>"
    )
    return (
        f'<section aria-labelledby="model-{escape(name)}">'
        f'<h2 id="model-{escape(name)}">{escape(name)}</h2>'
        f"<p class=muted><code>{escape(model['base_path'])}</code>{escape(share)}</p>"
        f"{error}{table}{_decisions(model['decisions'])}</section>"
    )


def _version(model: str, version: dict[str, Any]) -> str:
    labels = " ".join(f"<span class=label>{escape(label)}</span>" for label in version["labels"])
    if version["rejected"]:
        labels += " <span class=bad>rejected</span>"
    run = version["pushed_by"]
    figures = version["figures"] or {}
    latency = figures.get("mean_latency_ms")
    return (
        f'<tr data-version="{version["version"]}">'
        f"<th scope=row>{version['version']}</th><td>{labels}</td>"
        f"<td>{verdict(version['blessed'], unknown='unknown')}</td>"
        f"<td>{verdict(version['infra_blessed'], unknown='unknown')}</td>"
        f"<td>{link(f'/runs/{run}', run) if run else ''}</td>"
        f"<td data-cell=state>{escape(version['state'] or '')}</td>"
        f"<td class=num data-cell=requests>{figures.get('requests', '')}</td>"
        "<td class=num data-cell=rate></td>"
        f"<td class=num data-cell=errors>{figures.get('errors', '')}</td>"
        f"<td class=num data-cell=latency>{'' if latency is None else f'{latency:g} ms'}</td>"
        "</tr>"
    )


def _decisions(decisions: list[dict[str, Any]]) -> str:
    if not decisions:
        return ""
    items = "".join(
        f"<li>{timestamp(d.get('decided_at'))} <b>{escape(d['action'])}</b> version "
        f"{escape(d['canary'])}: {escape(d['reason'])}</li>"
        for d in decisions
    )
    return (
        f"<details><summary>Promotion decisions ({len(decisions)})</summary>"
        f"<ul>{items}</ul></details>"
    )
