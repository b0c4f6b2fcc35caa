"""The platform server's app on 127.0.0.1 with users of known roles, for tests over a socket."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.platform.access import Role
from shipyard.platform.auth.layer import AuthLayer, auth_layer
from shipyard.platform.jobs.api import JobService
from shipyard.platform.jobs.packages import PackageStore
from shipyard.platform.jobs.queue import JobQueue
from shipyard.platform.jobs.spaces import packages_location
from shipyard.platform.server import create_server_app
from tests.platform.conftest import HOST
from tests.ui.server import Answer, serving

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.platform.auth.accounts import Accounts

ROLES = {
    "vera": {"demo": Role.VIEWER},
    "rune": {"demo": Role.RUNNER},
    "rita": {"demo": Role.RUNNER},
    "eddy": {"demo": Role.EDITOR},
    "olga": {"other": Role.ADMIN},
}
"""Each test user's roles (and `root`, a server administrator): `demo` and `other` exist."""


@dataclass
class Platform:
    """A running server: its URL, services, queue and root, and each user's API token."""

    url: str
    service: JobService
    auth: AuthLayer
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


def add_users(accounts: Accounts) -> dict[str, str]:
    """Add the projects, `root` and the users of `ROLES`; return each one's API token."""
    for project in ("demo", "other"):
        accounts.add_project(project, actor=HOST)
    accounts.add_user("root", actor=HOST, superuser=True)
    tokens = {"root": accounts.create_token("root", actor=HOST).secret}
    for name, roles in ROLES.items():
        accounts.add_user(name, actor=HOST)
        for project, role in roles.items():
            accounts.grant(name, project, role, actor=HOST)
        tokens[name] = accounts.create_token(name, actor=HOST).secret
    return tokens


@contextmanager
def running_platform(root: Path, *, max_package_bytes: int = 10**6) -> Iterator[Platform]:
    """Serve the platform server over a fresh SQLite store under `root`, with `ROLES`."""
    store_url = f"sqlite:///{root / 'store.db'}"
    queue = JobQueue(store_url)
    auth = auth_layer(queue.database)
    packages = PackageStore(packages_location(root), max_bytes=max_package_bytes)
    service = JobService(queue, packages, auth.accounts, auth.audit)
    try:
        tokens = add_users(auth.accounts)
        with serving(create_server_app(service, auth)) as url:
            yield Platform(url, service, auth, queue, store_url, root, tokens)
    finally:
        queue.close()
