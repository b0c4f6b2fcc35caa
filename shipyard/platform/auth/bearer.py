"""API tokens as clients hold them: made at random, recognisable, stored as a SHA-256 hash.

A token is `shp_` followed by 43 URL-safe characters (256 random bits), so a secret scanner
or a person reading a log can tell it is a Shipyard token. The server keeps only its SHA-256
hash (the token has far too much entropy for the hash to be searched, so no slow hash is
needed, and each request is checked with one indexed lookup); a token is shown once, when
it is made. Clients send it as `Authorization: Bearer shp_...` (RFC 6750).

A browser holds it in the `shipyard_token` cookie instead (HttpOnly, SameSite=Strict), set by
a login that asks for a session: the cookie is taken for reading only (GET and HEAD, and
WebSockets), so a page of another site can never make a browser change anything with it.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

from shipyard.platform.access import Unauthenticated

__all__ = [
    "SESSION_COOKIE",
    "TOKEN_PREFIX",
    "bearer_token",
    "checked_token",
    "hash_token",
    "new_token",
    "new_token_id",
]

TOKEN_PREFIX: Final = "shp_"  # noqa: S105 - a prefix, not a secret
_TOKEN_BYTES: Final = 32
_TOKEN_CHARS: Final = len(TOKEN_PREFIX) + 43
_SCHEME: Final = "bearer"
SESSION_COOKIE: Final = "shipyard_token"


def new_token() -> str:
    """Return a new random token: `shp_` and 256 random bits, URL-safe base64."""
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def new_token_id() -> str:
    """Return a new public id for a token (12 hex digits), which lists and revocations show."""
    return secrets.token_hex(6)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest the server stores for `token`."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token(authorization: str) -> str:
    """Return the token of an `Authorization` header's value, `Bearer shp_...`.

    Raises:
        Unauthenticated: The value is not the Bearer scheme with one Shipyard token.
    """
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != _SCHEME or not token:
        raise Unauthenticated(
            "The Authorization header must be 'Bearer TOKEN'. Got a header of another form; "
            "send a token from `shipyard tokens create` or POST /api/login."
        )
    return checked_token(token, "bearer token")


def checked_token(token: str, what: str) -> str:
    """Return `token` if it has the form of a Shipyard token.

    Raises:
        Unauthenticated: It does not; the message names `what` sent it.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) != _TOKEN_CHARS:
        raise Unauthenticated(
            f"The {what} is not a Shipyard token (they start with {TOKEN_PREFIX!r} and "
            f"have {_TOKEN_CHARS} characters). Send a token from `shipyard tokens create` "
            "or POST /api/login."
        )
    return token
