"""Errors of Shipyard's own HTTP APIs (the UI's and the platform server's) as RFC 9457
`application/problem+json`, built in this module only."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final

from starlette.responses import Response

if TYPE_CHECKING:
    from collections.abc import Mapping

PROBLEM_TYPE: Final = "application/problem+json"
_TITLES: Final = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
}


class BadParameter(ValueError):
    """A query or path parameter that cannot be used: answered with a 400 naming it.

    Args:
        name: The parameter, as the URL spells it.
        message: What is wrong and what is allowed.
    """

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"The '{name}' parameter {message}")
        self.name = name


def problem(
    status: int,
    detail: str,
    *,
    parameter: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Return the problem document for `status` with `detail` (and the parameter at fault).

    Args:
        status: The HTTP status.
        detail: What went wrong and what to do, for a person.
        parameter: The query, path or body parameter at fault.
        headers: Headers to send with it (`WWW-Authenticate`, `Retry-After`).
    """
    body: dict[str, object] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if parameter is not None:
        body["parameter"] = parameter
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM_TYPE, headers=headers)
