"""The middleware that authenticates each request, and `principal_of` for the handlers.

`AuthMiddleware` is plain ASGI (no `BaseHTTPMiddleware`, which buffers streaming answers such
as live logs). For each HTTP or WebSocket request it

- takes the client's `X-Request-Id` (or draws one), keeps it on `request.state.request_id`
  and sends it back on the answer;
- reads `Authorization: Bearer TOKEN` (or, for reading only, the `shipyard_token` cookie a
  browser session holds: see `bearer`) and puts the `Principal` on `request.state.principal`,
  with the user's roles read now, so a revoked token or grant takes effect at the next request;
- refuses a bad, unknown, expired or revoked token with a 401, and a request without one with
  a 401 too unless its path is public (the login); both are written to the audit log. With a
  `login_page`, a browser asking for a page (a GET that accepts HTML, to a path without an
  `/api/` segment) is sent there instead, with the page it asked for as `?next=`.

Handlers call `principal_of(request)`; `Principal.require` raises `Forbidden` or `Hidden`,
which `denial_handlers` answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse
from starlette.websockets import WebSocketClose

from shipyard.errors import DataError
from shipyard.platform.access import Principal, Unauthenticated
from shipyard.platform.auth.bearer import (
    LOGOUT_PATH,
    SESSION_COOKIE,
    bearer_token,
    checked_token,
)
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

    from starlette.responses import Response
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
        login_page: Where a browser asking for a page without a valid session is sent (None:
            it gets the 401 too).

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
        login_page: str | None = None,
    ) -> None:
        self.app = app
        self._accounts = accounts
        self._audit = audit
        self._public = frozenset(public)
        self._login_page = login_page

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
            await _refuse(scope, receive, send, problem(400, str(error)))
            return
        state[REQUEST_ID_STATE] = request_id
        send = _sending_request_id(send, request_id)
        connection = HTTPConnection(scope)
        try:
            token = _token_of(connection, public=scope["path"] in self._public)
            state[PRINCIPAL_STATE] = await self._principal(scope["path"], token)
        except Unauthenticated as error:
            await record_denial(self._audit, connection, error)
            sent = "authorization" in connection.headers or SESSION_COOKIE in connection.cookies
            answer = (
                _to_login(self._login_page, connection)
                if self._login_page is not None and _asks_for_a_page(connection)
                else unauthenticated_response(error, token_sent=sent)
            )
            await _refuse(scope, receive, send, answer)
            return
        await self.app(scope, receive, send)

    async def _principal(self, path: str, token: str | None) -> Principal | None:
        if token is None:
            if path in self._public:
                return None
            raise Unauthenticated(_MISSING_CREDENTIALS)
        return await run_in_threadpool(self._accounts.authenticate, token)


def _token_of(connection: HTTPConnection, *, public: bool) -> str | None:
    """The request's token: its bearer token, else a reading request's session cookie.

    A public path (a login) ignores the cookie: an expired session must not stop a new login.

    Raises:
        Unauthenticated: The header is malformed, or only a cookie came with a request that
            changes something (a cross-site request could have sent it).
    """
    authorization = connection.headers.get("authorization")
    if authorization is not None:
        return bearer_token(authorization)
    cookie = connection.cookies.get(SESSION_COOKIE)
    if cookie is None or public:
        return None
    method = connection.scope.get("method", "GET")
    if method not in _READING and connection.url.path != LOGOUT_PATH:
        raise Unauthenticated(
            "A session cookie only reads (GET): send the token as 'Authorization: Bearer "
            "TOKEN' to change anything."
        )
    return checked_token(cookie, "session cookie")


_READING: Final = frozenset({"GET", "HEAD"})  # a WebSocket's scope has no method: reading


def _asks_for_a_page(connection: HTTPConnection) -> bool:
    """Whether a browser navigates to a page: a GET accepting HTML, to a path outside the
    APIs (`/api/...`, a project's `/projects/P/api/...`: any with an `api` segment)."""
    return (
        connection.scope.get("method") in _READING
        and "text/html" in connection.headers.get("accept", "")
        and "/api/" not in connection.url.path
    )


def _to_login(login_page: str, connection: HTTPConnection) -> Response:
    """Send the browser to the sign-in page, which sends it back to the page it asked for."""
    path = connection.url.path + (f"?{connection.url.query}" if connection.url.query else "")
    return RedirectResponse(f"{login_page}?{urlencode({'next': path})}", 303)


async def _refuse(scope: Scope, receive: Receive, send: Send, answer: Response) -> None:
    """Send `answer`; a WebSocket is closed instead, with 1008 (policy violation)."""
    if scope["type"] == "websocket":
        await WebSocketClose(code=1008)(scope, receive, send)
        return
    await answer(scope, receive, send)


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
