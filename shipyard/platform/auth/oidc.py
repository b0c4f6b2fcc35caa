"""OIDC login: the authorization code flow with PKCE against an identity provider.

`GET /api/oidc/login[?next=PATH]` sends the browser to the provider's authorization endpoint
with a fresh `state`, `nonce` and PKCE challenge (S256). The provider sends it back to
`GET /api/oidc/callback?code=...&state=...`: the server trades the code (with the PKCE
verifier) for an ID token at the token endpoint, verifies its signature against the
provider's JWKS, its issuer, audience (the client id), expiry and nonce, and sets a `login`
token as the session cookie (a browser is then sent on to `PATH`, by default `/`; other
clients get the token in the answer) for the user the identity is (`Accounts.oidc_user`:
matched by issuer and subject, or by verified e-mail, or added with no role in any project).

The endpoints come from the issuer's discovery document
(`ISSUER/.well-known/openid-configuration`), read at the first login. Logins under way are
kept for 10 minutes in the platform's database (`oidc_logins`): with several server
processes on one database, a login begun at one finishes at any other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from starlette.responses import RedirectResponse
from starlette.routing import Route

from shipyard.errors import ConfigError
from shipyard.platform.access import Unauthenticated
from shipyard.platform.auth.denials import actor_of
from shipyard.platform.auth.endpoints import endpoint
from shipyard.platform.auth.login import local_path, logged_in
from shipyard.platform.auth.oidc_logins import OidcLogins, PendingLogin
from shipyard.platform.auth.records import Actor, OidcIdentity
from shipyard.ui.problems import BadParameter, problem

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request
    from starlette.responses import Response

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.auth.endpoints import Body

__all__ = ["OIDC_PATHS", "OidcSettings", "oidc_routes"]

OIDC_PATHS: Final = frozenset({"/api/oidc/login", "/api/oidc/callback"})
"""The paths `AuthMiddleware` must let through without a token (add them to `public`)."""
_TIMEOUT_S: Final = 10.0
_ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
_LEEWAY_S: Final = 60


@dataclass(frozen=True)
class OidcSettings:
    """How the server logs users in with an identity provider.

    Attributes:
        issuer: The provider's issuer URL (`--oidc-issuer`), as its ID tokens' `iss` says.
        client_id: The server's client id there (`--oidc-client-id`).
        client_secret: Its client secret, for a confidential client (None: a public one).
        redirect_url: The callback URL registered with the provider (default: this server's
            `/api/oidc/callback` as the request reached it).
        scopes: The scopes asked for.
    """

    issuer: str
    client_id: str
    client_secret: str | None = None
    redirect_url: str | None = None
    scopes: tuple[str, ...] = ("openid", "email", "profile")


@dataclass
class _Provider:
    """The provider's endpoints and keys, read once."""

    settings: OidcSettings
    _discovered: dict[str, Any] | None = None
    _keys: Any = None

    def endpoints(self) -> dict[str, Any]:
        if self._discovered is None:
            issuer = self.settings.issuer.rstrip("/")
            found = _get_json(f"{issuer}/.well-known/openid-configuration")
            if found.get("issuer", "").rstrip("/") != issuer:
                raise ConfigError(
                    f"The OIDC issuer {self.settings.issuer!r} publishes a discovery document "
                    f"for issuer {found.get('issuer')!r}; --oidc-issuer must be the issuer "
                    "exactly as its ID tokens name it."
                )
            missing = [
                key
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                if not isinstance(found.get(key), str)
            ]
            if missing:
                raise ConfigError(
                    f"The discovery document of OIDC issuer {issuer!r} lacks {missing}."
                )
            self._discovered = found
        return self._discovered

    def signing_key(self, id_token: str) -> Any:
        import jwt

        if self._keys is None:
            jwks_uri = _web(self.endpoints()["jwks_uri"])
            self._keys = jwt.PyJWKClient(jwks_uri, timeout=int(_TIMEOUT_S))
        try:
            return self._keys.get_signing_key_from_jwt(id_token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise _ProviderUnreachableError(f"its JWKS cannot be read: {exc}") from None
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated(
                f"The ID token's signing key is not the issuer's: {exc}"
            ) from None
        except jwt.DecodeError as exc:
            raise Unauthenticated(f"The identity provider sent no valid ID token: {exc}") from None


def oidc_routes(settings: OidcSettings, accounts: Accounts, audit: AuditLog) -> list[Route]:
    """The routes of OIDC login (add `OIDC_PATHS` to the middleware's public paths).

    Example:
        >>> oidc = OidcSettings("https://login.example.com", "shipyard")
        >>> routes = [*auth_routes(accounts, audit), *oidc_routes(oidc, accounts, audit)]
        >>> Middleware(AuthMiddleware, accounts=accounts, audit=audit,
        ...            public=PUBLIC_PATHS | OIDC_PATHS)
    """
    provider = _Provider(settings)
    logins = OidcLogins(accounts.database)

    def login(request: Request, body: Body) -> Response:
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        redirect = settings.redirect_url or str(request.base_url).rstrip("/") + "/api/oidc/callback"
        then = local_path(request.query_params.get("next"))
        logins.remember(state, PendingLogin(nonce, verifier, redirect, then))
        query = {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": redirect,
            "scope": " ".join(settings.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        }
        target = provider.endpoints()["authorization_endpoint"]
        separator = "&" if "?" in target else "?"
        return RedirectResponse(target + separator + urllib.parse.urlencode(query), 302)

    def callback(request: Request, body: Body) -> Response:
        query = request.query_params
        pending = logins.take(query.get("state", ""))
        if pending is None:
            raise BadParameter(
                "state",
                "names no login under way (it took over 10 minutes or was used already). "
                "Start again at /api/oidc/login.",
            )
        if "error" in query:
            reason = query.get("error_description") or query["error"]
            raise Unauthenticated(f"The identity provider refused the login: {reason}")
        if "code" not in query:
            raise BadParameter("code", "is required: the identity provider sends it back.")
        identity = _verified_identity(provider, pending, query["code"])
        actor = actor_of(request)
        user = accounts.oidc_user(identity, actor=Actor(None, actor.request_id, actor.client))
        if user.disabled:
            raise Unauthenticated(f"The user {user.name!r} is disabled.")
        # A browser (it accepts HTML) goes on with its session cookie set to the page it asked
        # for (`?next=` of the login; the projects by default).
        browser = "text/html" in request.headers.get("accept", "")
        then = pending.then if browser else None
        return logged_in(accounts, user.name, request, "oidc login", session=True, then=then)

    return [
        Route("/api/oidc/login", _unreachable(endpoint(login, audit), settings), methods=["GET"]),
        Route("/api/oidc/callback", _unreachable(endpoint(callback, audit), settings)),
    ]


def _verified_identity(provider: _Provider, pending: PendingLogin, code: str) -> OidcIdentity:
    """Trade the code for an ID token and return its verified claims."""
    import jwt

    settings = provider.settings
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pending.redirect_url,
        "client_id": settings.client_id,
        "code_verifier": pending.verifier,
    }
    if settings.client_secret is not None:
        form["client_secret"] = settings.client_secret
    tokens = _post_form(provider.endpoints()["token_endpoint"], form)
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise Unauthenticated("The identity provider's token answer holds no ID token.")
    try:
        claims = jwt.decode(
            id_token,
            provider.signing_key(id_token),
            algorithms=list(_ALGORITHMS),
            audience=settings.client_id,
            issuer=settings.issuer,
            leeway=_LEEWAY_S,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"The ID token does not verify: {exc}.") from None
    if claims.get("nonce") != pending.nonce:
        raise Unauthenticated("The ID token's nonce is not the one this login sent.")
    email = claims.get("email")
    username = claims.get("preferred_username")
    return OidcIdentity(
        issuer=claims["iss"],
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) else None,
        email_verified=claims.get("email_verified") is True,
        preferred_username=username if isinstance(username, str) else None,
    )


def _challenge(verifier: str) -> str:
    """The PKCE S256 challenge of `verifier` (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _ProviderUnreachableError(Exception):
    """The identity provider could not be reached or answered nonsense."""


def _unreachable(
    answering: Callable[[Request], Awaitable[Response]], settings: OidcSettings
) -> Callable[[Request], Awaitable[Response]]:
    """Answer a provider that cannot be reached (or is misconfigured) with a 502 naming it."""

    async def guarded(request: Request) -> Response:
        try:
            return await answering(request)
        except (_ProviderUnreachableError, ConfigError) as exc:
            return problem(502, f"OIDC login through {settings.issuer} failed: {exc}")

    return guarded


def _get_json(url: str) -> dict[str, Any]:
    accept = {"Accept": "application/json"}
    return _fetch(urllib.request.Request(_web(url), headers=accept))  # noqa: S310 - _web


def _post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(  # noqa: S310 - _web checks the scheme
        _web(url), data=data, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    try:
        return _fetch(request)
    except _ProviderRefusedError as exc:
        raise Unauthenticated(f"The identity provider refused the code: {exc}") from None


def _web(url: str) -> str:
    """`url` if it is http or https (never `file:` or another scheme urllib would open)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"The OIDC URL {url!r} is not an http or https URL.")
    return url


class _ProviderRefusedError(_ProviderUnreachableError):
    """The identity provider answered an HTTP error."""


def _fetch(request: urllib.request.Request) -> dict[str, Any]:
    try:
        # the URL's scheme is checked by _web
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:  # noqa: S310
            found = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise _ProviderRefusedError(
            f"{request.full_url} answered {exc.code}: {exc.read()[:300].decode(errors='replace')}"
        ) from None
    except (OSError, ValueError) as exc:
        raise _ProviderUnreachableError(f"{request.full_url}: {exc}") from None
    if not isinstance(found, dict):
        raise _ProviderUnreachableError(f"{request.full_url} answered no JSON object")
    return found
