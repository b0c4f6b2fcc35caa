"""How the platform's handlers are made into Starlette endpoints: body, thread, errors.

A handler is a plain function of the request and its JSON body that returns a `Response`;
`endpoint` makes it an async endpoint that reads the body (a JSON object, at most 64 KiB),
runs the handler in the thread pool (the database calls block) and answers the expected
errors as problem documents (`denials.error_response`), writing refusals to the audit log.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from shipyard.platform.auth.denials import refusal
from shipyard.ui.problems import BadParameter, problem

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request
    from starlette.responses import Response

    from shipyard.platform.auth.audit import AuditLog

__all__ = ["Body", "answer", "endpoint", "field"]

Body = dict[str, Any]
MAX_BODY_BYTES: Final = 64 * 1024
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


def endpoint(
    handler: Callable[[Request, Body], Response], audit: AuditLog
) -> Callable[[Request], Awaitable[Response]]:
    """Return the async endpoint that runs `handler` (see the module's docstring)."""

    async def answering(request: Request) -> Response:
        try:
            body = await _body(request) if request.method in _BODY_METHODS else {}
            return await run_in_threadpool(handler, request, body)
        except _TooLargeError:
            return problem(413, f"The request body is over {MAX_BODY_BYTES} bytes.")
        except Exception as error:
            refused = await refusal(audit, request, error)
            if refused is None:
                raise
            return refused

    return answering


def answer(value: Any, status: int = 200) -> Response:
    """A JSON answer of `value` (a document of `documents`)."""
    return JSONResponse(value, status_code=status)


def field(body: Body, name: str, kind: type, *, required: bool = False) -> Any:
    """Return the body's field `name` if it is a `kind` (None when absent and not required).

    Raises:
        BadParameter: It is missing but required, or of another type.
    """
    value = body.get(name)
    if value is None:
        if required:
            raise BadParameter(name, f"is required: send a JSON body with {name!r}.")
        return None
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise BadParameter(
            name, f"must be a JSON {_JSON_NAMES[kind]}. Got {type(value).__name__} instead."
        )
    return value


_JSON_NAMES: Final = {str: "string", bool: "boolean", int: "number"}


async def _body(request: Request) -> Body:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise _TooLargeError
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadParameter("body", f"must be a JSON object: {exc}.") from None
    if not isinstance(parsed, dict):
        raise BadParameter("body", f"must be a JSON object. Got {type(parsed).__name__}.")
    return parsed


class _TooLargeError(Exception):
    """The body is over `MAX_BODY_BYTES`."""
