"""The page shell every UI page shares, and the small formatters its tables use.

Pages are HTML strings built here and in the page modules: every value from the store goes
through `escape` (or `link`), so a run id or parameter can never inject markup.
"""

from __future__ import annotations

import html
import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable

from shipyard._version import __version__

STATIC_VERSION: Final = __version__
"""Appended to asset URLs, so a new release is never served a stale cached file."""


@dataclass(frozen=True)
class PageContext:
    """Where the pages being served live, and who reads them.

    Attributes:
        root: The prefix of the UI's URLs: "" for `shipyard ui`, `/projects/P` for project
            P's UI in the platform server (the ASGI `root_path` the UI app is served under).
        project: The project the pages show, named in the header (None: `shipyard ui`).
        user: The signed-in user, named in the header with a sign-out button (None: no
            sign-in, `shipyard ui`).
    """

    root: str = ""
    project: str | None = None
    user: str | None = None


PAGE_CONTEXT: ContextVar[PageContext] = ContextVar("shipyard_page", default=PageContext())  # noqa: B039
"""The context of the request being answered: the app serving the pages sets it."""


def url(href: str) -> str:
    """The URL of the UI's own path (`/runs/ID`) under the root the UI is served at; any
    other `href` (`#node-train`, `https://...`) as it is."""
    if href.startswith("/") and not href.startswith("//"):
        return PAGE_CONTEXT.get().root + href
    return href


def escape(value: object) -> str:
    """The value as HTML text."""
    return html.escape(str(value), quote=True)


def link(href: str, text: object, **attributes: str) -> str:
    """An `<a>` element; `href`, `text` and the attributes (`class_` for class) are escaped.

    An `href` starting with one `/` is the UI's own path, taken under its root (`url`).
    """
    href = url(href)
    extra = "".join(f' {name.rstrip("_")}="{escape(value)}"' for name, value in attributes.items())
    return f'<a href="{escape(href)}"{extra}>{escape(text)}</a>'


def state_badge(state: str | None) -> str:
    """A run's or node's state as a coloured label (the word is always shown)."""
    name = state or "pending"
    return f'<span class="state" data-state="{escape(name)}">{escape(name)}</span>'


def duration(seconds: float | None) -> str:
    """`0.42 s`, `3 min 05 s`, `1 h 02 min`; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def timestamp(iso: str | None) -> str:
    """An ISO time as `2026-01-05 12:03:07` (UTC), in a `<time>` element."""
    if not iso:
        return ""
    return f'<time datetime="{escape(iso)}">{escape(iso[:19].replace("T", " "))}</time>'


def value_text(value: Any) -> str:
    """A parameter or property value as short text: strings bare, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def verdict(value: bool | None, *, unknown: str = "") -> str:
    """A blessing as a coloured yes or no; `unknown` (escaped) when it is None."""
    if value is None:
        return f"<span class=muted>{escape(unknown)}</span>" if unknown else ""
    return "<span class=good>yes</span>" if value else "<span class=bad>no</span>"


def number(value: float | None) -> str:
    """A metric with four significant digits; empty when missing."""
    return "" if value is None else f"{value:.4g}"


LONG_VALUE_CHARS = 160
"""A value longer than this is folded under its first words (a training history, a schema)."""


def key_values(values: dict[str, Any], *, caption: str) -> str:
    """A two-column table of names and values, or a line saying there are none.

    A value over `LONG_VALUE_CHARS` characters is folded: its beginning shows, the whole
    value opens on a click, so one long property does not push the page's content down.
    """
    if not values:
        return f"<p class=muted>No {escape(caption.lower())}.</p>"
    rows = "".join(
        f"<tr><th scope=row>{escape(k)}</th><td>{_value_cell(value_text(v))}</td></tr>"
        for k, v in values.items()
    )
    return f"<table class=kv><caption>{escape(caption)}</caption>{rows}</table>"


def _value_cell(text: str) -> str:
    if len(text) <= LONG_VALUE_CHARS:
        return escape(text)
    head = escape(text[: LONG_VALUE_CHARS // 2].rstrip())
    return (
        f"<details class=long><summary>{head}… ({len(text):,} characters)</summary>"
        f"<pre>{escape(text)}</pre></details>"
    )


def records_table(
    records: list[dict[str, Any]],
    *,
    caption: str,
    row_header: str | None = None,
    cell: Callable[[Any], str] = value_text,
    cell_class: str = "",
) -> str:
    """A `table.grid` of records, a column per key in first-seen order.

    Args:
        records: The rows.
        caption: The table's caption (escaped).
        row_header: The key whose value heads each row (a `<th scope=row>`), first; None
            for none.
        cell: Turns a value into text (escaped after); a missing key is None.
        cell_class: The class of every cell, e.g. `num`.
    """
    keys = list(dict.fromkeys(k for r in records for k in r if k != row_header))
    klass = f" class={cell_class}" if cell_class else ""
    heads = ([row_header] if row_header else []) + keys
    head = "".join(f"<th scope=col{klass}>{escape(k)}</th>" for k in heads)
    rows = "".join(
        "<tr>"
        + (f"<th scope=row><code>{escape(r.get(row_header))}</code></th>" if row_header else "")
        + "".join(f"<td{klass}>{escape(cell(r.get(k)))}</td>" for k in keys)
        + "</tr>"
        for r in records
    )
    return (
        f"<table class=grid><caption>{escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def page(title: str, body: str, *, script: bool = True, sections: bool = True) -> str:
    """A whole page: the header with the navigation, then `body`.

    Args:
        title: The page's title (escaped).
        body: The page's HTML.
        script: Whether the page loads `ui.js`.
        sections: Whether the navigation links the UI's sections (runs, models, API); the
            platform server's own pages (sign-in, projects) have none.
    """
    context = PAGE_CONTEXT.get()
    static = escape(url("/static"))
    js = f'<script src="{static}/ui.js?v={STATIC_VERSION}" defer></script>' if script else ""
    nav = f'<a class=brand href="{escape(url("/"))}">Shipyard</a>'
    if context.project is not None:
        nav += f"<span class=project>{escape(context.project)}</span>"
    if sections:
        sections_nav = (("/runs", "Runs"), ("/models", "Models"), ("/api/openapi.json", "API"))
        nav += "".join(link(path, label) for path, label in sections_nav)
    if context.user is not None:
        nav += (
            '<span class=account><a href="/">Projects</a>'
            f"<span class=user>{escape(context.user)}</span>"
            '<button type=button data-sign-out="/api/logout" data-then="/login">Sign out</button>'
            "</span>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Shipyard</title>"
        f'<link rel=stylesheet href="{static}/ui.css?v={STATIC_VERSION}">{js}</head>'
        f'<body><header><nav aria-label="Main">{nav}</nav></header>'
        f"<main>{body}</main></body></html>"
    )
