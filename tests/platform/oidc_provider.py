"""A small OpenID Connect provider for the tests, with real RSA keys, served on 127.0.0.1.

It implements what `shipyard.platform.auth.oidc` uses: discovery, the JWKS, the
authorization endpoint (which logs the configured identity in at once and redirects back
with a code) and the token endpoint (authorization code with PKCE S256, an RS256 ID token).
Knobs let a test make it misbehave: sign with a key it does not publish, send another nonce
or audience, or an ID token already expired.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

CLIENT_ID = "shipyard-tests"


@dataclass
class Provider:
    """The provider's state: its keys, who logs in next, codes issued, and the knobs."""

    claims: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "u-1",
            "email": "ana@example.com",
            "email_verified": True,
            "preferred_username": "ana",
        }
    )
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    sign_with_unpublished_key: bool = False
    nonce: str | None = None
    audience: str | None = None
    lifetime_s: int = 300
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
            ]
        )

    async def _discovery(self, request: Request) -> Response:
        issuer = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return JSONResponse({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})

    async def _authorize(self, request: Request) -> Response:
        query = request.query_params
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert query["code_challenge_method"] == "S256" and "openid" in query["scope"]
        code = secrets.token_urlsafe(16)
        self.codes[code] = dict(query)
        back = {"code": code, "state": query["state"]}
        return RedirectResponse(f"{query['redirect_uri']}?{urllib.parse.urlencode(back)}", 302)

    async def _token(self, request: Request) -> Response:
        form = dict(urllib.parse.parse_qsl((await request.body()).decode()))
        self.token_requests.append(form)
        asked = self.codes.pop(form.get("code", ""), None)
        if asked is None or form.get("redirect_uri") != asked["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != asked["code_challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        now = int(time.time())
        claims = {
            **self.claims,
            "iss": str(request.base_url).rstrip("/"),
            "aud": self.audience or CLIENT_ID,
            "iat": now,
            "exp": now + self.lifetime_s,
            "nonce": self.nonce or asked["nonce"],
        }
        key = self.key
        if self.sign_with_unpublished_key:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        return JSONResponse({"access_token": "at", "token_type": "Bearer", "id_token": id_token})
