"""The viewer of a `Schema` artifact: its features as a table, and its YAML to download.

Built from the artifact's JSON (`preview` of `shipyard.artifacts.Schema`), the same the API
returns. The table keeps the schema's column order, or sorts by name when asked
(`?sort=name` or `?sort=-name`, links in the header, no script).
"""

from __future__ import annotations

from typing import Any, Final

from shipyard.ui.html import escape, link, url

COLUMNS: Final = (
    ("type", "Type"),
    ("presence", "Presence"),
    ("constraint", "Domain or range"),
    ("not_in", "Not in"),
    ("skew", "Skew check"),
    ("drift", "Drift check"),
)
SORTS: Final = ("name", "-name")


def render_schema(artifact: dict[str, Any], *, sort: str | None = None) -> str:
    """The features table of a schema artifact, sorted by name when `sort` is in `SORTS`."""
    preview = artifact["preview"] or {}
    features: dict[str, dict[str, str]] = preview.get("features", {})
    base = f"/artifacts/{artifact['id']}"
    download = link(f"{base}/files/schema.yaml", "Download schema.yaml", download="schema.yaml")
    environments = ", ".join(preview.get("environments", [])) or "none"
    head = (
        f"<section aria-labelledby=schema-title><h2 id=schema-title>Schema</h2>"
        f"<p>{len(features)} features · environments: {escape(environments)} · {download}</p>"
    )
    if not features:
        return head + "<p class=muted>The schema has no features.</p></section>"
    names = list(features)
    if sort in SORTS:
        names.sort(key=str.lower, reverse=sort == "-name")
    aria = {"name": "ascending", "-name": "descending"}.get(sort or "", "none")
    flip = "-name" if sort == "name" else "name"
    arrow = {"name": " ▲", "-name": " ▼"}.get(sort or "", "")
    name_head = (
        f'<th scope=col aria-sort="{aria}">'
        f'<a href="{escape(url(base))}?sort={flip}#schema-title">Feature{arrow}</a></th>'
    )
    heads = name_head + "".join(f"<th scope=col>{title}</th>" for _, title in COLUMNS)
    rows = "".join(
        f"<tr><th scope=row><code>{escape(name)}</code></th>"
        + "".join(f"<td>{escape(features[name].get(key, ''))}</td>" for key, _ in COLUMNS)
        + "</tr>"
        for name in names
    )
    return (
        f"{head}<div class=table-wrap><table class=grid>"
        f"<caption>Features, in {'name' if sort in SORTS else 'column'} order</caption>"
        f"<thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table></div></section>"
    )
