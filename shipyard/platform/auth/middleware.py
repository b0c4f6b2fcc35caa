"""The middleware that authenticates each request, and `principal_of` for the handlers.

`AuthMiddleware` is plain ASGI (no `BaseHTTPMiddleware`, which buffers streaming answers such
as live logs). For each HTTP or WebSocket request it

- takes the client's `X-Request-Id` (or draws one), keeps it on `request.state.request_id`
  and sends it back on the answer;
- reads `Authorization: Bearer TOKEN` and puts the `Principal` on `request.state.principal`,
  with the user's roles read now, so a revoked token or grant takes effect at the next request;
- refuses a bad, unknown, expired or revoked token with a 401, and a request without one with
  a 401 too unless its path is public (the login); both are written to the audit log.

Handlers call `principal_of(request)`; `Principal.require` raises `Forbidden` or `Hidden`,
which `denial_handlers` answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection

from shipyard.errors import DataError
from shipyard.platform.access import Principal, Unauthenticated
from shipyard.platform.auth.bearer import bearer_token
from shipyard.platform.auth.denials import (
    PRINCIPAL_STATE,
    REQUEST_ID_STATE,
    record_denial,
    unauthenticated_response,
)
from shipyard.serving.inference import REQUEST_ID_HEADER, checked_request_id, new_request_id
from shipyard.ui.problems import problem

if TYPE_CHECKING:
    from collections.abc import Collection

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog

__all__ = ["PUBLIC_PATHS", "AuthMiddleware", "principal_of"]

PUBLIC_PATHS: Final = frozenset({"/api/login", "/api/openapi.json"})
_MISSING_CREDENTIALS: Final = (
    "This endpoint needs a token: send 'Authorization: Bearer TOKEN' with a token from "
    "`shipyard tokens create` or POST /api/login."
)


class AuthMiddleware:
    """Authenticate every request to `app` (see the module's docstring).

    Args:
        app: The application behind it.
        accounts: Where tokens, users and grants are.
        audit: Where refusals are written.
        public: Paths a request may reach without a token (it still may not with a bad one).

    Example:
        >>> app = Starlette(routes=auth_routes(accounts, audit), middleware=[
        ...     Middleware(AuthMiddleware, accounts=accounts, audit=audit)])
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        accounts: Accounts,
        audit: AuditLog,
        public: Collection[str] = PUBLIC_PATHS,
    ) -> None:
        self.app = app
        self._accounts = accounts
        self._audit = audit
        self._public = frozenset(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate the request, then pass it on (or answer it with a 401 or 400)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        state = scope.setdefault("state", {})
        sent_id = headers.get(REQUEST_ID_HEADER)
        try:
            request_id = new_request_id() if sent_id is None else checked_request_id(sent_id)
        except DataError as error:
            await problem(400, str(error))(scope, receive, send)
            return
        state[REQUEST_ID_STATE] = request_id
        send = _sending_request_id(send, request_id)
        authorization = headers.get("authorization")
        try:
            state[PRINCIPAL_STATE] = await self._principal(scope["path"], authorization)
        except Unauthenticated as error:
            await record_denial(self._audit, HTTPConnection(scope), error)
            answer = unauthenticated_response(error, token_sent=authorization is not None)
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _principal(self, path: str, authorization: str | None) -> Principal | None:
        if authorization is None:
            if path in self._public:
                return None
            raise Unauthenticated(_MISSING_CREDENTIALS)
        return await run_in_threadpool(self._accounts.authenticate, bearer_token(authorization))


def _sending_request_id(send: Send, request_id: str) -> Send:
    """Wrap `send` so that the answer carries the request's id."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
        await send(message)

    return sending


def principal_of(connection: HTTPConnection) -> Principal:
    """Return the principal of an authenticated request.

    Raises:
        Unauthenticated: The request carried no token (its path is public).
    """
    principal = connection.scope.get("state", {}).get(PRINCIPAL_STATE)
    if principal is None:
        raise Unauthenticated(_MISSING_CREDENTIALS)
    assert isinstance(principal, Principal)
    return principal
