"""The query parameters of the runs listing (page and API alike), parsed into a `RunQuery`.

`pipeline`, `state` (comma-separated), `q` (text searched in ids, pipelines and parameters),
`sort` (`started_at`, `duration_s` or `metrics.NAME`; a leading `-` sorts largest first,
the default `-started_at`), `offset` and `limit`. A value that cannot be used raises
`BadParameter` naming the parameter: the API answers it with a 400, never a 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, get_args

from shipyard.runners.run_json import SORT_CHOICES, parse_sort
from shipyard.store import RunQuery
from shipyard.store.records import RunState
from shipyard.ui.problems import BadParameter

if TYPE_CHECKING:
    from collections.abc import Mapping

RUN_STATES: Final = get_args(RunState)
DEFAULT_SORT: Final = "-started_at"
DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 500
MAX_SEARCH_CHARS: Final = 200
KNOWN: Final = ("pipeline", "state", "q", "sort", "offset", "limit")


def parse_run_query(params: Mapping[str, str]) -> RunQuery:
    """Return the `RunQuery` that `params` (a URL's query) asks for.

    Raises:
        BadParameter: A parameter is unknown or its value cannot be used.
    """
    for name in params:
        if name not in KNOWN:
            raise BadParameter(name, f"is not known; the runs listing takes {', '.join(KNOWN)}.")
    states = tuple(s for s in params.get("state", "").split(",") if s)
    for state in states:
        if state not in RUN_STATES:
            raise BadParameter(
                "state", f"must be among {', '.join(RUN_STATES)} (comma-separated). Got {state!r}."
            )
    search = params.get("q") or None
    if search is not None and len(search) > MAX_SEARCH_CHARS:
        raise BadParameter("q", f"must be at most {MAX_SEARCH_CHARS} characters long.")
    for name in ("pipeline", "q"):
        if "\x00" in params.get(name, ""):
            raise BadParameter(name, "must not contain NUL characters.")
    sort = params.get("sort") or DEFAULT_SORT
    order = parse_sort(sort)
    if order is None:
        raise BadParameter("sort", f"must be {SORT_CHOICES}. Got {sort!r}.")
    return RunQuery(
        pipeline=params.get("pipeline") or None,
        states=states,
        search=search,
        order_by=order[0],
        descending=order[1],
        offset=_integer(params, "offset", 0, minimum=0),
        limit=_integer(params, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT),
    )


def query_string(query: RunQuery, **changes: object) -> str:
    """Return the URL query that asks for `query`, with some parameters changed."""
    from urllib.parse import urlencode

    values: dict[str, object] = {
        "pipeline": query.pipeline,
        "state": ",".join(query.states),
        "q": query.search,
        "sort": sort_value(query),
        "offset": query.offset,
        "limit": query.limit,
    }
    values.update(changes)
    defaults = {"sort": DEFAULT_SORT, "offset": 0, "limit": DEFAULT_LIMIT}
    kept = {k: v for k, v in values.items() if v not in (None, "") and defaults.get(k) != v}
    return urlencode(kept)


def sort_value(query: RunQuery) -> str:
    """The `sort` parameter of `query`."""
    return ("-" if query.descending else "") + query.order_by


def _integer(
    params: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(name, f"must be an integer. Got {text!r}.") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f">= {minimum}" + ("" if maximum is None else f" and <= {maximum}")
        raise BadParameter(name, f"must be an integer {bounds}. Got {value}.")
    return value
