"""The platform server's app on 127.0.0.1 with users of known roles, for tests over a socket."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.platform.access import Principal, Role
from shipyard.platform.jobs.api import JobService
from shipyard.platform.jobs.packages import PackageStore
from shipyard.platform.jobs.queue import JobQueue
from shipyard.platform.jobs.spaces import packages_dir
from shipyard.platform.server import create_server_app
from tests.ui.server import Answer, serving

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from starlette.types import ASGIApp, Receive, Scope, Send

USERS = {
    "root": Principal("root", superuser=True),
    "vera": Principal("vera", {"demo": Role.VIEWER}),
    "rune": Principal("rune", {"demo": Role.RUNNER}),
    "rita": Principal("rita", {"demo": Role.RUNNER}),
    "eddy": Principal("eddy", {"demo": Role.EDITOR}),
    "olga": Principal("olga", {"other": Role.ADMIN}),
}
"""Each test user and their roles: `demo` and `other` are the projects."""


@dataclass
class Platform:
    """A running server: its URL, its queue and root, and each user's token."""

    url: str
    queue: JobQueue
    store_url: str
    root: Path
    tokens: dict[str, str]

    def call(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        body: Any = None,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> Answer:
        """Send a request as `user` (None: no token); a 4xx or 5xx is returned, not raised."""
        headers = {"Content-Type": content_type}
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        payload = json.dumps(body).encode() if body is not None else data
        request = urllib.request.Request(
            self.url + path, data=payload, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())


class _TestAuthentication:
    """Puts the principal named by the bearer token on the request (the token is the name)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
            if token in USERS:
                scope.setdefault("state", {})["principal"] = USERS[token]
        await self.app(scope, receive, send)


@contextmanager
def running_platform(root: Path, *, max_package_bytes: int = 10**6) -> Iterator[Platform]:
    """Serve the platform server over a fresh SQLite store under `root`."""
    store_url = f"sqlite:///{root / 'store.db'}"
    queue = JobQueue(store_url)
    service = JobService(queue, PackageStore(packages_dir(root), max_bytes=max_package_bytes))
    app = _TestAuthentication(create_server_app(service))
    try:
        with serving(app) as url:  # type: ignore[arg-type]
            yield Platform(url, queue, store_url, root, {name: name for name in USERS})
    finally:
        queue.close()
