"""The runs page: a filtered, sorted, paginated table with the columns the user picked.

The table is built from the dicts of `runners.run_json.find_runs`, the same the API returns.
Which parameters and metrics are columns is kept in the `shipyard-columns` cookie (set by
`ui.js` when the user picks), so the server renders the chosen columns on every visit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from shipyard.ui.html import (
    duration,
    escape,
    link,
    number,
    page,
    state_badge,
    timestamp,
    url,
    value_text,
)
from shipyard.ui.run_params import RUN_STATES, query_string, sort_value

if TYPE_CHECKING:
    from shipyard.store import RunQuery

COLUMNS_COOKIE: Final = "shipyard-columns"
DEFAULT_PARAMETER_COLUMNS: Final = 3
MAX_VALUE_CHARS: Final = 28
"""A parameter's value is cut to this many characters in a cell (whole in its title)."""


def chosen_columns(cookie: str | None) -> list[str] | None:
    """The columns kept in the cookie (`p:NAME` and `m:NAME`), or None if none were picked."""
    if cookie is None:
        return None
    return [c for c in unquote(cookie).split(",") if c[:2] in ("p:", "m:")]


def render_runs_page(
    query: RunQuery, runs: list[dict[str, Any]], total: int, chosen: list[str] | None
) -> str:
    """The runs page for one page of `runs` out of `total` matching `query`."""
    available = _available_columns(runs, chosen or [])
    columns = chosen if chosen is not None else _default_columns(available)
    body = (
        "<h1>Runs</h1>"
        + _filters(query)
        + _picker(available, columns)
        + _pager(query, len(runs), total)
        + _table(query, runs, columns)
        + _pager(query, len(runs), total)
        + '<form id=compare class=compare method=get action="'
        + escape(url("/compare"))
        + '">'
        "<button type=submit>Compare selected runs</button> "
        "<span class=muted>tick two or more runs</span></form>"
    )
    return page("Runs", body)


def _available_columns(runs: list[dict[str, Any]], chosen: list[str]) -> list[str]:
    names: dict[str, None] = {}
    for run in runs:
        names.update((f"p:{name}", None) for name in run["parameters"])
    for run in runs:
        names.update((f"m:{name}", None) for name in run["metrics"])
    names.update((column, None) for column in chosen)
    return list(names)


def _default_columns(available: list[str]) -> list[str]:
    parameters = [c for c in available if c.startswith("p:")][:DEFAULT_PARAMETER_COLUMNS]
    return parameters + [c for c in available if c.startswith("m:")]


def _filters(query: RunQuery) -> str:
    options = "".join(
        f'<option value="{s}"{" selected" if query.states == (s,) else ""}>{s}</option>'
        for s in ("", *RUN_STATES)
    ).replace('<option value=""></option>', '<option value="">any state</option>')
    return (
        f'<form class=filters method=get action="{escape(url("/runs"))}" role=search>'
        f'<label>Pipeline <input name=pipeline value="{escape(query.pipeline or "")}"></label>'
        f"<label>State <select name=state>{options}</select></label>"
        f'<label>Search <input type=search name=q value="{escape(query.search or "")}" '
        'placeholder="id, pipeline or parameter"></label>'
        f'<input type=hidden name=sort value="{escape(sort_value(query))}">'
        "<button type=submit>Filter</button></form>"
    )


def _picker(available: list[str], columns: list[str]) -> str:
    boxes = "".join(
        f'<label><input type=checkbox data-column="{escape(c)}"'
        f"{' checked' if c in columns else ''}> {escape(_column_title(c))}</label>"
        for c in available
    )
    return (
        f'<details class=picker><summary>Columns</summary><fieldset data-columns="'
        f'{escape(",".join(columns))}"><legend>Parameters and metrics shown</legend>'
        f"{boxes or '<p class=muted>No parameters or metrics on this page.</p>'}"
        "</fieldset></details>"
    )


def _column_title(column: str) -> str:
    return column[2:]


def _pager(query: RunQuery, shown: int, total: int) -> str:
    limit = query.limit or max(shown, 1)
    first = query.offset + 1 if shown else 0
    text = f"Runs {first:,} to {query.offset + shown:,} of {total:,}" if shown else "No runs match."
    links = []
    if query.offset > 0:
        previous = max(0, query.offset - limit)
        links.append(link(f"/runs?{query_string(query, offset=previous)}", "← Newer page"))
    if query.offset + shown < total:
        links.append(link(f"/runs?{query_string(query, offset=query.offset + limit)}", "Next →"))
    return f'<nav class=pager aria-label="Pages"><span>{text}</span> {" ".join(links)}</nav>'


def _sort_header(query: RunQuery, key: str, title: str) -> str:
    current = query.order_by == key
    descending = not (current and query.descending)  # a click on the current column flips it
    href = f"/runs?{query_string(query, sort=('-' if descending else '') + key, offset=0)}"
    arrow = (" ↓" if query.descending else " ↑") if current else ""
    sort = ("descending" if query.descending else "ascending") if current else "none"
    return f'<th scope=col aria-sort="{sort}">{link(href, title + arrow)}</th>'


def _table(query: RunQuery, runs: list[dict[str, Any]], columns: list[str]) -> str:
    head = (
        '<th scope=col class=pick aria-label="Select to compare"></th>'
        "<th scope=col>Run</th><th scope=col>Pipeline</th><th scope=col>State</th>"
        + _sort_header(query, "started_at", "Started")
        + _sort_header(query, "duration_s", "Duration")
        + "<th scope=col>Trigger</th>"
    )
    for column in columns:
        if column.startswith("m:"):
            head += _sort_header(query, f"metrics.{column[2:]}", column[2:])
        else:
            head += f"<th scope=col>{escape(column[2:])}</th>"
    head += "<th scope=col>Model</th>"
    rows = "".join(_row(run, columns) for run in runs)
    return (
        f'<div class="table-wrap scrolls" tabindex=0 role=region aria-label="Runs">'
        f'<table class=runs data-live="{escape(url("/api/runs?" + query_string(query)))}">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _row(run: dict[str, Any], columns: list[str]) -> str:
    run_id = escape(run["id"])
    cells = [
        f'<td class=pick><input type=checkbox name=runs value="{run_id}" form=compare '
        f'aria-label="Select run {run_id} to compare"></td>',
        f"<th scope=row>{link('/runs/' + run['id'], run['id'], class_='run-id')}</th>",
        f"<td>{escape(run['pipeline'])}</td>",
        f"<td data-cell=state>{state_badge(run['state'])}</td>",
        f"<td>{timestamp(run['started_at'])}</td>",
        f"<td data-cell=duration class=num>{duration(run['duration_s'])}</td>",
        f"<td>{_trigger(run.get('trigger'))}</td>",
    ]
    for column in columns:
        name = column[2:]
        if column.startswith("m:"):
            value = number(run["metrics"].get(name))
            cells.append(f'<td data-cell="{escape(column)}" class=num>{value}</td>')
        elif name in run["parameters"]:
            text = value_text(run["parameters"][name])
            cells.append(f'<td title="{escape(text)}">{escape(shorten(text))}</td>')
        else:
            cells.append("<td></td>")
    cells.append(f"<td data-cell=model>{_model(run)}</td>")
    state = escape(run["state"])
    return f'<tr data-run="{escape(run["id"])}" data-state="{state}">{"".join(cells)}</tr>'


def shorten(text: str) -> str:
    """`text` cut to `MAX_VALUE_CHARS`: a path or URL keeps its end (`…/data/taxi.csv`, the
    part that tells runs apart), anything else its start."""
    if len(text) <= MAX_VALUE_CHARS:
        return text
    if "/" in text:
        return "…" + text[-(MAX_VALUE_CHARS - 1) :]
    return text[: MAX_VALUE_CHARS - 1] + "…"


def _model(run: dict[str, Any]) -> str:
    pushed = ", ".join(f"{m['name']} v{m['version']}" for m in run["models"])
    if pushed:
        return escape(pushed)
    return "<span class=bad>not blessed</span>" if run["blessed"] is False else ""


def _trigger(trigger: dict[str, Any] | None) -> str:
    """The trigger that started the run (`shipyard schedule`), its reason on hover."""
    if not trigger:
        return ""
    reason = escape(trigger.get("reason", ""))
    return f'<span title="{reason}">{escape(trigger["name"])} ({escape(trigger["kind"])})</span>'
