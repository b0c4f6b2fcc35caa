"""`POST /api/login`: a user's name and password for a short-lived token, throttled;
`POST /api/logout`: the end of it.

A login gets a token of kind `login` that works for `LOGIN_LIFETIME` (8 hours) and is revoked
like any other. With `"session": true` the answer also sets it as the browser's session
cookie (`bearer.SESSION_COOKIE`: HttpOnly, SameSite=Strict, Secure over https), which the
server takes for reading only.

A login that sets the cookie must come as `application/json` (a 415 otherwise): a page of
another site cannot send that without the server's CORS consent (it gives none), so it cannot
sign a browser in as someone else (login CSRF). A login for a token alone may come as any
type: its answer, the token, never reaches another site.

Five failures in a minute for one user name, or from one address, make further tries wait
(429 with `Retry-After`), even with the right password; every failure and every throttled
try is in the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

from starlette.responses import RedirectResponse
from starlette.routing import Route

from shipyard.platform.access import Unauthenticated
from shipyard.platform.auth.bearer import LOGOUT_PATH, SESSION_COOKIE
from shipyard.platform.auth.denials import actor_of, unauthenticated_response
from shipyard.platform.auth.documents import new_token_document
from shipyard.platform.auth.endpoints import answer, endpoint, field
from shipyard.platform.auth.middleware import principal_of
from shipyard.platform.auth.records import Actor
from shipyard.ui.problems import problem

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.auth.endpoints import Body
    from shipyard.platform.auth.throttle import LoginThrottle

__all__ = ["LOGIN_LIFETIME", "local_path", "logged_in", "login_route", "logout_route"]

LOGIN_LIFETIME: Final = timedelta(hours=8)

_WRONG: Final = "Wrong user name or password (or the user is disabled)."


def login_route(accounts: Accounts, audit: AuditLog, throttle: LoginThrottle) -> Route:
    """The route of `POST /api/login` (body: `name`, `password`; answer: a new token)."""

    def login(request: Request, body: Body) -> Response:
        name = field(body, "name", str, required=True)
        password = field(body, "password", str, required=True)
        session = field(body, "session", bool) or False
        sent_as = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if session and sent_as != "application/json":
            return problem(
                415,
                'A login with "session": true must be sent as \'Content-Type: '
                f"application/json'. Got {sent_as or 'none'!r} instead.",
            )
        actor = actor_of(request)
        keys = (f"user:{name}", f"client:{actor.client}")
        wait_s = throttle.retry_after_s(*keys)
        if wait_s is not None:
            detail = {"status": 429, "reason": "too many failed logins"}
            audit.record(actor, "login", outcome="denied", target=name, detail=detail)
            return problem(
                429,
                f"Too many failed logins for {name!r} or from {actor.client}: try again in "
                f"{wait_s} s.",
                headers={"Retry-After": str(wait_s)},
            )
        user = accounts.check_password(name, password)
        if user is None:
            throttle.failed(*keys)
            audit.record(actor, "login", outcome="denied", target=name, detail={"status": 401})
            return unauthenticated_response(Unauthenticated(_WRONG), token_sent=False)
        throttle.succeeded(keys[0])
        return logged_in(accounts, user.name, request, "login", session=session)

    return Route("/api/login", endpoint(login, audit), methods=["POST"])


def logged_in(
    accounts: Accounts,
    user: str,
    request: Request,
    how: str,
    *,
    session: bool,
    then: str | None = None,
) -> Response:
    """The answer to a login: a new `login` token of `user` for `LOGIN_LIFETIME`.

    Args:
        accounts: Where the token is made.
        user: Who logged in.
        request: The login's request (its id and client go to the audit log).
        how: The token's name: `login`, `oidc login`.
        session: Whether to set the token as the browser's session cookie too.
        then: Where to send the browser (a 303) instead of answering the token (a 201).
    """
    actor = actor_of(request)
    made = accounts.create_token(
        user,
        actor=Actor(user, actor.request_id, actor.client),
        name=how,
        kind="login",
        expires_in=LOGIN_LIFETIME,
    )
    response = (
        answer(new_token_document(made), 201) if then is None else RedirectResponse(then, 303)
    )
    if session:
        response.set_cookie(
            SESSION_COOKIE,
            made.secret,
            max_age=int(LOGIN_LIFETIME.total_seconds()),
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
    return response


def logout_route(accounts: Accounts, audit: AuditLog) -> Route:
    """The route of `POST /api/logout`: revoke the token the request came with, clear the
    session cookie."""

    def logout(request: Request, body: Body) -> Response:
        principal = principal_of(request)
        if principal.token_id is not None:
            accounts.revoke_token(principal.token_id, actor=actor_of(request))
        response = answer({"user": principal.name, "revoked": principal.token_id})
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return Route(LOGOUT_PATH, endpoint(logout, audit), methods=["POST"])


def local_path(next_path: str | None) -> str:
    """`next_path` if it is a path of this server (`/projects/taxi/runs?q=a`), else `/`: a
    sign-in never sends a browser to another site."""
    if (
        not next_path
        or not next_path.startswith("/")
        or next_path.startswith("//")
        or "\\" in next_path
        or any(ord(c) < 32 for c in next_path)
    ):
        return "/"
    return next_path
