"""Two `shipyard server` processes on one PostgreSQL behave as one at login: the throttle
counts the failures made at both, an OIDC login begun at one finishes at the other, and each
serves the projects' UIs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest

from shipyard.platform.access import Role
from shipyard.platform.auth.accounts import Accounts
from shipyard.platform.database import Database
from tests.environment import child_environment
from tests.platform.conftest import HOST
from tests.platform.http import NoRedirect, call, redirect_target
from tests.platform.oidc_provider import CLIENT_ID, Provider
from tests.platform.web.server import PASSWORD
from tests.ui.server import serving

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.parametrize("store_url", ["postgresql"], indirect=True),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(store_url: str, root: Path, issuer: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--store", store_url, "--artifact-root",
         str(root), "--port", str(port), "--workers", "0", "--oidc-issuer", issuer,
         "--oidc-client-id", CLIENT_ID],
        env=child_environment(checkout_first=True),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(f"{url}/api/openapi.json", timeout=5):
                return process, url
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)


def test_two_server_processes_share_the_throttle_and_oidc_logins(
    store_url: str, tmp_path: Path
) -> None:
    with Database(store_url) as database:
        accounts = Accounts(database)
        accounts.add_user("ana", actor=HOST, password=PASSWORD)
        accounts.add_user("bob", actor=HOST, password=PASSWORD)
        accounts.add_project("demo", actor=HOST)
        accounts.grant("bob", "demo", Role.VIEWER, actor=HOST)
    provider = Provider()
    started: list[subprocess.Popen[bytes]] = []
    try:
        with serving(provider.app()) as issuer:
            urls = []
            for _ in range(2):
                process, url = _start(store_url, tmp_path, issuer + "/")
                started.append(process)
                urls.append(url)
            one, two = urls

            login = {"name": "bob", "password": PASSWORD}
            token = call("POST", f"{one}/api/login", body=login).json()["token"]
            page = call("GET", f"{two}/projects/demo/runs", token=token)
            assert page.status == 200 and "<h1>Runs</h1>" in page.text

            authorize = redirect_target(f"{one}/api/oidc/login?next=/projects/demo/runs")
            callback = redirect_target(authorize).replace(one, two)
            opener = urllib.request.build_opener(NoRedirect)
            with pytest.raises(urllib.error.HTTPError) as caught:
                opener.open(urllib.request.Request(callback, headers={"Accept": "text/html"}))
            assert caught.value.code == 303, caught.value.read()
            assert caught.value.headers["location"] == "/projects/demo/runs"
            caught.value.close()

            for url in (one, two, one, two, one):
                wrong = {"name": "ana", "password": "not the password"}
                assert call("POST", f"{url}/api/login", body=wrong).status == 401
            for url in (one, two):
                right = {"name": "ana", "password": PASSWORD}
                assert call("POST", f"{url}/api/login", body=right).status == 429, url
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(30)
