"""The platform server's pages in headless Chromium, as a user goes: a wrong password, sign in,
only one's projects, a project's runs and a run, sign out; then the rate limit's message."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest

from tests.cdp import Page, browser
from tests.platform.web.server import PASSWORD, record_run, running_web_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def _wait_until(page: Page, expression: str, *, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.05)


def _sign_in(page: Page, name: str, password: str) -> None:
    page.evaluate(
        f"document.querySelector('input[name=name]').value = {json.dumps(name)};"
        f"document.querySelector('input[name=password]').value = {json.dumps(password)};"
        "document.querySelector('[role=alert]').hidden = true"
    )
    page.click("form[data-login] button[type=submit]")


def _alert(page: Page) -> str:
    _wait_until(page, "!document.querySelector('[role=alert]').hidden")
    return str(page.evaluate("document.querySelector('[role=alert]').textContent"))


def test_sign_in_see_only_one_s_projects_open_a_run_and_sign_out(tmp_path: Path) -> None:
    root = tmp_path / "server"
    root.mkdir()
    run_id = record_run(f"sqlite:///{root / 'store.db'}", root, "demo")
    with running_web_server(root) as server, browser(tmp_path / "profile") as page:
        page.goto(f"{server.url}/projects/demo/runs")
        assert page.evaluate("location.pathname + location.search") == (
            "/login?next=%2Fprojects%2Fdemo%2Fruns"
        )
        _sign_in(page, "vera", "not the password")
        assert "Wrong user name or password" in _alert(page)
        assert page.evaluate("location.pathname") == "/login"

        mark = len(page.events)
        _sign_in(page, "vera", PASSWORD)
        page.wait_for("Page.loadEventFired", after=mark)
        assert page.evaluate("location.pathname") == "/projects/demo/runs"  # the page asked for
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads the session
        run_link = f"a[href='/projects/demo/runs/{run_id}']"
        assert page.evaluate(f"!!document.querySelector({json.dumps(run_link)})")

        page.click_and_wait("header a[href='/']")
        projects = page.evaluate(
            "[...document.querySelectorAll('table[data-projects] a')].map(a => a.textContent)"
        )
        assert projects == ["demo"]  # not "other", where vera has no role
        page.click_and_wait("table[data-projects] a")
        page.click_and_wait(run_link)
        assert page.evaluate("location.pathname") == f"/projects/demo/runs/{run_id}"
        assert page.evaluate("document.querySelector('main h1').textContent") == f"Run {run_id}"
        page.goto(f"{server.url}/projects/other/runs")
        assert "Nothing at /projects/other/runs" in page.evaluate("document.body.textContent")

        page.goto(f"{server.url}/projects/demo/runs")
        mark = len(page.events)
        page.click("button[data-sign-out]")
        page.wait_for("Page.loadEventFired", after=mark)
        assert page.evaluate("location.pathname") == "/login"
        page.goto(f"{server.url}/projects/demo/runs")  # the session is over
        assert page.evaluate("location.pathname") == "/login"
        tokens = server.auth.accounts.list_tokens("vera")
        assert [t.revoked_at is not None for t in tokens if t.kind == "login"] == [True]

        for _ in range(4):  # with the first wrong one, five failures from this address
            _sign_in(page, "rita", "wrong password")
            assert "Wrong user name or password" in _alert(page)
        _sign_in(page, "rita", PASSWORD)
        assert "Too many failed logins" in _alert(page)
        page.screenshot(tmp_path / "throttled.png")
