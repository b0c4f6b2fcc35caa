"""What several server processes on one database share about logins: the throttle's failures
and the OIDC logins under way (SQLite, and PostgreSQL with -m postgres)."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from shipyard.platform.auth import oidc_logins as logins_module
from shipyard.platform.auth.layer import auth_layer, oidc_settings
from shipyard.platform.auth.oidc_logins import OidcLogins, PendingLogin
from shipyard.platform.auth.throttle import LoginThrottle
from shipyard.platform.database import Database
from shipyard.store.sql.tables import login_failures, oidc_logins
from tests.platform.conftest import HOST
from tests.platform.http import NoRedirect, call, redirect_target
from tests.platform.oidc_provider import CLIENT_ID, Provider
from tests.ui.server import serving

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Table

    from shipyard.platform.auth.accounts import Accounts

PASSWORD = "correct horse battery"


class Clock:
    """A UTC clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _rows(database: Database, table: Table) -> int:
    with database.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_the_throttle_counts_failures_in_a_sliding_window_and_purges_old_ones(
    database: Database,
) -> None:
    clock = Clock()
    throttle = LoginThrottle(database, clock=clock)
    for _ in range(4):
        throttle.failed("user:ana", "client:10.0.0.7")
        clock.advance(10)
    assert throttle.retry_after_s("user:ana") is None
    throttle.failed("user:ana", "client:10.0.0.7")  # five: at 0, 10, 20, 30 and 40 s
    assert throttle.retry_after_s("user:ana", "client:10.0.0.8") == 20  # 0 + 60 - 40
    assert throttle.retry_after_s("user:bob", "client:10.0.0.7") == 20
    clock.advance(21)  # the first failure left the window
    assert throttle.retry_after_s("user:ana") is None
    throttle.succeeded("user:ana")
    assert _rows(database, login_failures) == 5  # the address's, not the user's
    clock.advance(60)
    throttle.failed("user:" + "x" * 100_000)  # any name fits: keys are kept as digests
    assert _rows(database, login_failures) == 1  # the failures past the window are gone


def test_an_oidc_login_is_taken_once_and_expires(database: Database, store_url: str) -> None:
    clock = Clock()
    logins = OidcLogins(database, clock=clock)
    pending = PendingLogin("n", "v" * 43, "https://s/api/oidc/callback", "/projects/demo/")
    logins.remember("s1", pending)
    with Database(store_url) as elsewhere:  # another connection's view
        assert OidcLogins(elsewhere, clock=clock).take("s1") == pending
    logins.remember("s2", pending)
    assert logins.take("s2") == pending
    assert logins.take("s2") is None  # used already
    logins.remember("s3", pending)
    clock.advance(601)
    assert logins.take("s3") is None  # over 10 minutes
    logins.remember("s4", pending)
    assert _rows(database, oidc_logins) == 1  # the expired ones went as s4 began


def test_past_the_limit_the_oldest_oidc_logins_make_room(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logins_module, "MAX_PENDING", 3)
    clock = Clock()
    logins = OidcLogins(database, clock=clock)
    pending = PendingLogin("n", "v", "https://s/cb", "/")
    for state in ("a", "b", "c", "d"):
        logins.remember(state, pending)
        clock.advance(1)
    assert logins.take("a") is None
    assert [logins.take(s) is not None for s in ("b", "c", "d")] == [True, True, True]


@pytest.fixture
def two_servers(store_url: str, accounts: Accounts) -> Iterator[tuple[str, str, Provider]]:
    """Two server apps, each with its own auth layer and connections, on one database."""
    accounts.add_user("ana", actor=HOST, password=PASSWORD)
    provider = Provider()
    with serving(provider.app()) as issuer:
        oidc = oidc_settings(issuer + "/", CLIENT_ID)
        first, second = Database(store_url), Database(store_url)
        try:
            apps = []
            for database in (first, second):
                auth = auth_layer(database, oidc=oidc)
                apps.append(Starlette(routes=auth.routes, middleware=[auth.middleware]))
            with serving(apps[0]) as one, serving(apps[1]) as two:
                yield one, two, provider
        finally:
            first.close()
            second.close()


def test_two_servers_count_the_failed_logins_of_both(
    two_servers: tuple[str, str, Provider],
) -> None:
    one, two, _ = two_servers
    for url in (one, two, one, two, one):
        wrong = call("POST", f"{url}/api/login", body={"name": "ana", "password": "wrong!!!"})
        assert wrong.status == 401
    for url in (one, two):
        right = call("POST", f"{url}/api/login", body={"name": "ana", "password": PASSWORD})
        assert right.status == 429, url


def test_an_oidc_login_begun_at_one_server_finishes_at_the_other(
    two_servers: tuple[str, str, Provider],
) -> None:
    one, two, _ = two_servers
    authorize = redirect_target(f"{one}/api/oidc/login?next=/projects/demo/runs")
    callback = redirect_target(authorize).replace(one, two)
    assert callback.startswith(f"{two}/api/oidc/callback?")
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener = urllib.request.build_opener(NoRedirect)
        opener.open(urllib.request.Request(callback, headers={"Accept": "text/html"}), timeout=10)
    assert caught.value.code == 303
    assert caught.value.headers["location"] == "/projects/demo/runs"  # the page asked for
    caught.value.close()
    again = call("GET", callback.replace(two, one))  # taken: neither server finishes it again
    assert again.status == 400 and again.json()["parameter"] == "state"
