"""Requests to a server on 127.0.0.1, for the platform's tests: any method, JSON, a token."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.ui.server import Answer


def call(
    method: str,
    url: str,
    *,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """Send a request (`body` as JSON); a 4xx or 5xx is returned, not raised."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Makes urllib answer a redirect as an `HTTPError` instead of following it."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def redirect_target(url: str) -> str:
    """Where a GET of `url` redirects to (a 302), without following it."""
    try:
        urllib.request.build_opener(NoRedirect).open(url, timeout=10).close()
    except urllib.error.HTTPError as caught:
        assert caught.code == 302, caught.code
        location: str = caught.headers["location"]
        caught.close()
        return location
    raise AssertionError(f"{url} did not redirect")
