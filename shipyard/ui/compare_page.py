"""The compare page: runs side by side, built from `runners.comparison.compare_runs` (the dict
`/api/compare` returns and `shipyard runs compare --json` prints).

Parameters that differ between the runs are marked; each metric shows its value in every run
and, after the first run, the difference from the first; then the outputs every run has
diffed: schemas, evaluations (metrics and slices) and statistics (`artifact_diffs`).
"""

from __future__ import annotations

from typing import Any

from shipyard.ui.artifact_diffs import render_artifact_diffs
from shipyard.ui.html import duration, escape, link, number, page, state_badge, value_text, verdict


def render_compare_page(compared: dict[str, Any]) -> str:
    """The runs, their parameters (changed ones first and marked), metrics, blessings,
    models and each node's state and whether its outputs changed."""
    runs = compared["runs"]
    head = "".join(f"<th scope=col>{link('/runs/' + run['id'], run['id'])}</th>" for run in runs)
    facts = (
        _row("Pipeline", [escape(run["pipeline"]) for run in runs])
        + _row("State", [state_badge(run["state"]) for run in runs])
        + _row("Duration", [duration(run["duration_s"]) for run in runs])
        + _row("Blessed", [verdict(value) for value in compared["blessed"]])
        + _row("Model", [_models(models) for models in compared["models"]])
    )
    body = (
        f"<h1>Comparing {len(runs)} runs</h1>"
        + _table("Runs", head, facts)
        + _parameters(compared["parameters"], compared["changed_parameters"], head)
        + _metrics(compared["metrics"], head)
        + _nodes(compared["nodes"], head)
        + render_artifact_diffs(compared, head, _row)
    )
    return page("Compare runs", f"<div class=compare>{body}</div>")


def _table(caption: str, head: str, rows: str) -> str:
    return (
        f"<section><h2>{escape(caption)}</h2><div class=table-wrap><table class=side-by-side>"
        f"<thead><tr><th scope=col></th>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
        "</section>"
    )


def _row(title: str, cells: list[str], *, changed: bool = False) -> str:
    mark = ' class=changed data-changed=""' if changed else ""
    label = escape(title) + (" <span class=badge>changed</span>" if changed else "")
    return (
        f"<tr{mark}><th scope=row>{label}</th>"
        + "".join(f"<td>{cell}</td>" for cell in cells)
        + "</tr>"
    )


def _parameters(parameters: dict[str, list[Any]], changed: list[str], head: str) -> str:
    if not parameters:
        return "<section><h2>Parameters</h2><p class=muted>No parameters.</p></section>"
    order = [*changed, *(name for name in parameters if name not in changed)]
    rows = "".join(
        _row(
            name,
            [escape("" if v is None else value_text(v)) for v in parameters[name]],
            changed=name in changed,
        )
        for name in order
    )
    return _table(f"Parameters ({len(changed)} changed)", head, rows)


def _metrics(metrics: dict[str, dict[str, list[Any]]], head: str) -> str:
    if not metrics:
        return "<section><h2>Metrics</h2><p class=muted>No metrics.</p></section>"
    rows = "".join(
        _row(f"{node}: {name}", _with_differences(values))
        for node, named in metrics.items()
        for name, values in named.items()
    )
    return _table("Metrics (difference from the first run)", head, rows)


def _with_differences(values: list[Any]) -> list[str]:
    first = values[0]
    cells = []
    for index, value in enumerate(values):
        if not isinstance(value, int | float) or isinstance(value, bool):
            cells.append(escape("" if value is None else value_text(value)))
            continue
        text = number(value)
        if index and isinstance(first, int | float) and not isinstance(first, bool):
            delta = value - first
            if delta:
                sign = "good" if delta > 0 else "bad"
                text += f" <span class={sign}>({delta:+.4g})</span>"
        cells.append(text)
    return cells


def _nodes(nodes: dict[str, dict[str, Any]], head: str) -> str:
    rows = "".join(
        _row(
            f"{name}: outputs {entry['outputs']}",
            [state_badge(state) if state else "" for state in entry["states"]],
            changed=entry["outputs"] != "same",
        )
        for name, entry in nodes.items()
    )
    return _table("Nodes", head, rows) if rows else ""


def _models(models: list[dict[str, Any]]) -> str:
    return escape(", ".join(f"{m['name']} v{m['version']}" for m in models))
