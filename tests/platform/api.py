"""The auth API served over 127.0.0.1 on a fresh SQLite store, with users in every role."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette

from shipyard.platform.access import Role
from shipyard.platform.auth import passwords
from shipyard.platform.auth.layer import auth_layer
from shipyard.platform.database import Database
from tests.platform.conftest import HOST
from tests.ui.server import serving

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from starlette.routing import BaseRoute

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog

PASSWORD = "correct horse"
ROLES = {"viewer": Role.VIEWER, "runner": Role.RUNNER, "editor": Role.EDITOR, "admin": Role.ADMIN}
"""A user per role in project taxi, named after its role."""


@dataclass(frozen=True)
class Server:
    """The served API: its URL, what it serves, and a token per user.

    `root` administers the server; `viewer`, `runner`, `editor` and `admin` have that role in
    project `taxi`; `outsider` is admin of project `fraud` only; `target` has no role.
    """

    url: str
    accounts: Accounts
    audit: AuditLog
    tokens: dict[str, str]


@contextmanager
def serving_auth_api(
    folder: Path, more_routes: Callable[[Database, AuditLog], list[BaseRoute]] | None = None
) -> Iterator[Server]:
    """Serve `auth_routes` (and `more_routes`) behind `AuthMiddleware` on a store in `folder`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        database = Database(f"sqlite:///{folder / 'store.db'}")
        auth = auth_layer(database)
        accounts, audit = auth.accounts, auth.audit
        accounts.add_user("root", actor=HOST, password=PASSWORD, superuser=True)
        for project in ("taxi", "fraud"):
            accounts.add_project(project, actor=HOST)
        for name, role in ROLES.items():
            accounts.add_user(name, actor=HOST, password=PASSWORD)
            accounts.grant(name, "taxi", role, actor=HOST)
        accounts.add_user("outsider", actor=HOST, password=PASSWORD)
        accounts.grant("outsider", "fraud", Role.ADMIN, actor=HOST)
        accounts.add_user("target", actor=HOST, password=PASSWORD)
        tokens = {
            name: accounts.create_token(name, actor=HOST).secret
            for name in ("root", *ROLES, "outsider")
        }
        app = Starlette(
            routes=[
                *auth.routes,
                *(more_routes(database, audit) if more_routes is not None else []),
            ],
            middleware=[auth.middleware],
            exception_handlers={**auth.exception_handlers},
        )
        try:
            with serving(app) as url:
                yield Server(url, accounts, audit, tokens)
        finally:
            database.close()
