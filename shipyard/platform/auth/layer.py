"""Everything a server app needs to put its routes behind authentication, in one call.

Example:
    >>> auth = auth_layer(database, oidc=oidc_settings(issuer, client_id))
    >>> app = Starlette(
    ...     routes=[*auth.routes, *job_routes(...), Mount("/", ui_app)],
    ...     middleware=[auth.middleware],
    ...     exception_handlers={**auth.exception_handlers},
    ... )
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.middleware import Middleware

from shipyard.errors import ConfigError
from shipyard.platform.auth.accounts import Accounts
from shipyard.platform.auth.audit import AuditLog
from shipyard.platform.auth.denials import denial_handlers
from shipyard.platform.auth.middleware import PUBLIC_PATHS, AuthMiddleware
from shipyard.platform.auth.oidc import OIDC_PATHS, OidcSettings, oidc_routes
from shipyard.platform.auth.routes import auth_routes

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection, Mapping

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from shipyard.platform.database import Database

__all__ = ["AuthLayer", "auth_layer", "oidc_settings"]


@dataclass(frozen=True)
class AuthLayer:
    """The parts of authentication a server app is built with.

    Attributes:
        accounts: Users, tokens, projects and grants.
        audit: The audit log, for the app's own entries (`audit.record(actor_of(request), ...)`).
        routes: The auth API's routes (and OIDC login's, if configured).
        middleware: `AuthMiddleware`, letting through the login paths (and `public`).
        exception_handlers: The 401, 403 and 404 answers of `Unauthenticated`, `Forbidden`
            and `Hidden` raised by the app's handlers, each written to the audit log.
        public: The paths the middleware lets through without a token.
    """

    accounts: Accounts
    audit: AuditLog
    routes: list[BaseRoute]
    middleware: Middleware
    exception_handlers: Mapping[
        type[Exception], Callable[[Request, Exception], Awaitable[Response]]
    ]
    public: frozenset[str] = frozenset()

    def serving_pages(self, login_page: str, public: Collection[str]) -> Middleware:
        """The middleware for a server with pages: `login_page` and `public` (its assets) are
        reached without a token, and a browser asking for a page without a valid session is
        sent to `login_page`."""
        return Middleware(
            AuthMiddleware,
            accounts=self.accounts,
            audit=self.audit,
            public=self.public | {login_page, *public},
            login_page=login_page,
        )


def auth_layer(
    database: Database, *, oidc: OidcSettings | None = None, public: Collection[str] = ()
) -> AuthLayer:
    """Return the authentication of a server on `database` (see the module's docstring).

    Args:
        database: The platform's database.
        oidc: How users log in with an identity provider (None: passwords and tokens only).
        public: More paths a request may reach without a token (a health check).
    """
    accounts, audit = Accounts(database), AuditLog(database)
    routes = auth_routes(accounts, audit)
    open_paths = PUBLIC_PATHS | frozenset(public)
    if oidc is not None:
        routes += oidc_routes(oidc, accounts, audit)
        open_paths |= OIDC_PATHS
    middleware = Middleware(AuthMiddleware, accounts=accounts, audit=audit, public=open_paths)
    return AuthLayer(accounts, audit, routes, middleware, denial_handlers(audit), open_paths)


def oidc_settings(
    issuer: str | None,
    client_id: str | None,
    client_secret: str | None = None,
    redirect_url: str | None = None,
) -> OidcSettings | None:
    """Return the OIDC settings the server's flags give, or None when OIDC is off.

    Raises:
        ConfigError: Only one of `--oidc-issuer` and `--oidc-client-id` is given, or the
            issuer is not an http(s) URL.
    """
    if issuer is None and client_id is None:
        if client_secret is not None or redirect_url is not None:
            raise ConfigError(
                "--oidc-client-secret and --oidc-redirect-url need --oidc-issuer and "
                "--oidc-client-id."
            )
        return None
    if issuer is None or client_id is None:
        given, missing = (
            ("--oidc-issuer", "--oidc-client-id")
            if client_id is None
            else ("--oidc-client-id", "--oidc-issuer")
        )
        raise ConfigError(f"{given} needs {missing} too: OIDC login needs both.")
    if not issuer.startswith(("https://", "http://")):
        raise ConfigError(
            f"--oidc-issuer must be the identity provider's issuer URL (https://...). "
            f"Got {issuer!r} instead."
        )
    return OidcSettings(issuer.rstrip("/"), client_id, client_secret, redirect_url)
