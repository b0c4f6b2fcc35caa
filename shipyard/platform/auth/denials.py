"""The answers to requests the platform refuses, as problem documents, and their audit entries.

`Unauthenticated` is a 401 with `WWW-Authenticate: Bearer` (RFC 6750), `Forbidden` a 403,
`Hidden` a 404 that reads like any miss. Every such refusal is written to the audit log with
the request's method and path, its id and the client's address. Other expected errors of the
platform's routes are answered too, never as a 500: a bad parameter 400, a miss 404, a name
taken 409.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from starlette.concurrency import run_in_threadpool

from shipyard.errors import AlreadyExistsError, InvalidParameterError, NotFoundError
from shipyard.platform.access import Forbidden, Hidden, Unauthenticated
from shipyard.platform.auth.records import Actor
from shipyard.ui.problems import BadParameter, problem

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from starlette.requests import HTTPConnection, Request
    from starlette.responses import Response

    from shipyard.platform.auth.audit import AuditLog

__all__ = [
    "REQUEST_ID_STATE",
    "actor_of",
    "denial_handlers",
    "error_response",
    "refusal",
    "unauthenticated_response",
]

REQUEST_ID_STATE: Final = "request_id"
PRINCIPAL_STATE: Final = "principal"
_CHALLENGE: Final = 'Bearer realm="shipyard"'
_CHALLENGE_INVALID: Final = 'Bearer realm="shipyard", error="invalid_token"'


def actor_of(connection: HTTPConnection) -> Actor:
    """Who makes a request, for the audit log: its principal (if any), request id and client."""
    principal = connection.scope.get("state", {}).get(PRINCIPAL_STATE)
    client = connection.client
    return Actor(
        None if principal is None else principal.name,
        connection.scope.get("state", {}).get(REQUEST_ID_STATE),
        None if client is None else client.host,
    )


def unauthenticated_response(error: Unauthenticated, *, token_sent: bool) -> Response:
    """The 401 for `error`; `token_sent` says whether a token came (then it is invalid)."""
    challenge = _CHALLENGE_INVALID if token_sent else _CHALLENGE
    return problem(401, str(error), headers={"WWW-Authenticate": challenge})


def error_response(error: Exception) -> Response | None:
    """The problem document for an expected error of a platform route; None for others."""
    match error:
        case Unauthenticated():
            return unauthenticated_response(error, token_sent=False)
        case Forbidden():
            return problem(403, str(error))
        case Hidden() | NotFoundError():
            return problem(404, str(error))
        case AlreadyExistsError():
            return problem(409, str(error))
        case BadParameter():
            return problem(400, str(error), parameter=error.name)
        case InvalidParameterError():
            return problem(400, str(error))
    return None


def denial_handlers(
    audit: AuditLog,
) -> Mapping[type[Exception], Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette exception handlers for the three refusals, each written to `audit`.

    Example:
        >>> app = Starlette(routes=..., exception_handlers={**denial_handlers(audit)})
    """

    async def refuse(request: Request, error: Exception) -> Response:
        await record_denial(audit, request, error)
        answer = error_response(error)
        assert answer is not None
        return answer

    return {Unauthenticated: refuse, Forbidden: refuse, Hidden: refuse}


async def refusal(audit: AuditLog, request: HTTPConnection, error: Exception) -> Response | None:
    """The answer to an expected error of a route (its denial audited); None for others."""
    refused = error_response(error)
    if refused is not None and isinstance(error, Unauthenticated | Forbidden | Hidden):
        await record_denial(audit, request, error)
    return refused


async def record_denial(audit: AuditLog, request: HTTPConnection, error: Exception) -> None:
    """Write a refused request to the audit log: who, the method and path, and why."""
    method = request.scope.get("method", "WEBSOCKET")
    await run_in_threadpool(
        audit.record,
        actor_of(request),
        f"{method} {request.url.path}",
        outcome="denied",
        detail={"status": _STATUS[type(error)], "reason": str(error)},
    )


_STATUS: Final = {Unauthenticated: 401, Forbidden: 403, Hidden: 404}
