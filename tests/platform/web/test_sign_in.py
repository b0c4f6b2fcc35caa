"""The sign-in page and where a browser without a session is sent, over a real socket."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.platform.auth.login import local_path
from shipyard.platform.auth.oidc import OidcSettings
from tests.platform.web.server import PASSWORD, fetch, post, running_web_server

if TYPE_CHECKING:
    from pathlib import Path

HTML = {"Accept": "text/html,application/xhtml+xml"}


def test_a_page_without_a_session_sends_the_browser_to_sign_in(tmp_path: Path) -> None:
    with running_web_server(tmp_path) as server:
        page = fetch(f"{server.url}/projects/demo/runs?q=a", headers=HTML)
        assert page.status == 303
        assert page.headers["location"] == "/login?next=%2Fprojects%2Fdemo%2Fruns%3Fq%3Da"
        expired = {**HTML, "Cookie": "shipyard_token=shp_" + "x" * 43}
        assert fetch(f"{server.url}/", headers=expired).headers["location"] == "/login?next=%2F"
        api = fetch(f"{server.url}/projects/demo/api/runs", headers=HTML)
        assert api.status == 401 and api.headers["content-type"] == "application/problem+json"
        assert fetch(f"{server.url}/api/jobs/", headers=HTML).status == 401
        sign_in = fetch(f"{server.url}/login?next=/projects/demo/runs", headers=HTML)
        assert sign_in.status == 200
        assert 'data-login="/api/login" data-next="/projects/demo/runs"' in sign_in.text
        assert "Sign in with OIDC" not in sign_in.text
        for asset in ("/static/ui.js", "/static/ui.css"):
            assert fetch(server.url + asset).status == 200


def test_the_sign_in_page_offers_oidc_when_it_is_configured(tmp_path: Path) -> None:
    oidc = OidcSettings("http://127.0.0.1:9/issuer", "shipyard")
    with running_web_server(tmp_path, oidc=oidc) as server:
        page = fetch(f"{server.url}/login?next=/projects/demo/", headers=HTML).text
        assert 'href="/api/oidc/login?next=%2Fprojects%2Fdemo%2F"' in page


def test_a_session_login_must_be_json_so_no_other_site_can_post_one(tmp_path: Path) -> None:
    body = b'{"name": "vera", "password": "%s", "session": true}' % PASSWORD.encode()
    with running_web_server(tmp_path) as server:
        refused = post(f"{server.url}/api/login", body, content_type="text/plain")
        assert refused.status == 415 and "application/json" in refused.json()["detail"]
        assert "set-cookie" not in {k.lower() for k in refused.headers}
        signed_in = post(f"{server.url}/api/login", body, content_type="application/json; x=y")
        assert signed_in.status == 201
        assert "samesite=strict" in signed_in.headers["set-cookie"].lower()
        token_only = b'{"name": "vera", "password": "%s"}' % PASSWORD.encode()
        form = "application/x-www-form-urlencoded"  # curl -d: a token alone, no cookie
        assert post(f"{server.url}/api/login", token_only, content_type=form).status == 201


@pytest.mark.parametrize(
    ("asked", "then"),
    [
        ("/projects/demo/runs?q=a", "/projects/demo/runs?q=a"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/runs\r\nSet-Cookie: x", "/"),
    ],
)
def test_a_sign_in_only_sends_a_browser_to_a_path_of_this_server(
    asked: str | None, then: str
) -> None:
    assert local_path(asked) == then
