"""OIDC login against a local provider with real keys: code flow, PKCE, ID token checks."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from starlette.applications import Starlette

from shipyard.platform.auth.layer import auth_layer, oidc_settings
from shipyard.platform.auth.oidc import OidcSettings, oidc_routes
from tests.platform.conftest import HOST
from tests.platform.http import NoRedirect, call, redirect_target
from tests.platform.oidc_provider import CLIENT_ID, Provider
from tests.ui.server import serving

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shipyard.platform.auth.accounts import Accounts
    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.database import Database
    from tests.ui.server import Answer

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


@dataclass(frozen=True)
class Setup:
    url: str
    provider: Provider
    accounts: Accounts
    audit: AuditLog


@pytest.fixture
def setup(database: Database) -> Iterator[Setup]:
    provider = Provider()
    with serving(provider.app()) as issuer:
        auth = auth_layer(database, oidc=oidc_settings(issuer + "/", CLIENT_ID))
        app = Starlette(routes=auth.routes, middleware=[auth.middleware])
        with serving(app) as url:
            yield Setup(url, provider, auth.accounts, auth.audit)


def _login(setup: Setup) -> Answer:
    """Log in as a browser would: follow the redirects to the provider and back."""
    return call("GET", f"{setup.url}/api/oidc/login")


def test_a_login_adds_the_user_with_no_roles_and_answers_a_token(setup: Setup) -> None:
    answer = _login(setup)
    assert answer.status == 201, answer.body
    made = answer.json()
    assert made["user"] == "ana" and made["kind"] == "login"
    assert call("GET", f"{setup.url}/api/projects", token=made["token"]).json() == {"projects": []}
    user = setup.accounts.get_user("ana")
    assert (user.email, user.has_password, user.superuser) == ("ana@example.com", False, False)
    [request] = setup.provider.token_requests
    assert request["grant_type"] == "authorization_code" and len(request["code_verifier"]) >= 43
    assert _login(setup).json()["user"] == "ana"  # the same subject is the same user
    assert [u.name for u in setup.accounts.list_users()] == ["ana"]
    added = [e for e in setup.audit.events() if e.action == "user.add"]
    assert [(e.target, e.detail["subject"]) for e in added] == [("ana", "u-1")]


def test_a_verified_email_links_an_existing_user(setup: Setup) -> None:
    setup.accounts.add_user("ana.b", actor=HOST, email="ana@example.com")
    assert _login(setup).json()["user"] == "ana.b"
    assert [u.name for u in setup.accounts.list_users()] == ["ana.b"]


def test_an_unverified_email_links_nobody_and_taken_names_are_passed_over(setup: Setup) -> None:
    setup.accounts.add_user("ana", actor=HOST, email="ana@example.com")
    setup.provider.claims["email_verified"] = False
    assert _login(setup).json()["user"] == "ana@example.com"
    setup.provider.claims["sub"] = "u-2"
    assert _login(setup).json()["user"] == "oidc-u-2"
    setup.accounts.add_user("oidc-u-3", actor=HOST)
    setup.provider.claims["sub"] = "u-3"
    assert _login(setup).json()["user"] == "ana-2"


@pytest.mark.parametrize(
    ("knob", "value", "says"),
    [
        ("sign_with_unpublished_key", True, "does not verify"),
        ("nonce", "another", "nonce is not the one"),
        ("audience", "another-client", "does not verify"),
        ("lifetime_s", -120, "does not verify"),
    ],
)
def test_an_id_token_that_does_not_verify_is_refused(
    setup: Setup, knob: str, value: object, says: str
) -> None:
    setattr(setup.provider, knob, value)
    answer = _login(setup)
    assert answer.status == 401 and says in answer.json()["detail"]
    assert setup.accounts.list_users() == []
    assert [e.outcome for e in setup.audit.events()] == ["denied"]


def test_a_callback_is_used_once_and_needs_a_login_under_way(setup: Setup) -> None:
    authorize = redirect_target(f"{setup.url}/api/oidc/login")
    assert "code_challenge_method=S256" in authorize and "nonce=" in authorize
    callback = redirect_target(authorize)
    assert call("GET", callback).status == 201
    replayed = call("GET", callback)
    assert replayed.status == 400 and replayed.json()["parameter"] == "state"
    assert call("GET", f"{setup.url}/api/oidc/callback?code=x&state=forged").status == 400


def test_a_browser_goes_on_to_the_ui_with_its_session_cookie(setup: Setup) -> None:
    callback = redirect_target(redirect_target(f"{setup.url}/api/oidc/login"))
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener = urllib.request.build_opener(NoRedirect)
        opener.open(urllib.request.Request(callback, headers={"Accept": "text/html"}), timeout=10)
    assert caught.value.code == 303 and caught.value.headers["location"] == "/"
    cookie = caught.value.headers["set-cookie"]
    caught.value.close()
    token = cookie.split(";")[0].removeprefix("shipyard_token=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert setup.accounts.authenticate(token).name == "ana"


def test_a_disabled_user_cannot_log_in(setup: Setup) -> None:
    _login(setup)
    setup.accounts.set_disabled("ana", True, actor=HOST)
    answer = _login(setup)
    assert answer.status == 401 and "disabled" in answer.json()["detail"]


def test_an_unreachable_provider_is_a_502_naming_it(accounts: Accounts, audit: AuditLog) -> None:
    settings = OidcSettings("http://127.0.0.1:9", CLIENT_ID)
    app = Starlette(routes=oidc_routes(settings, accounts, audit))
    with serving(app) as url:
        answer = call("GET", f"{url}/api/oidc/login")
    assert answer.status == 502 and "http://127.0.0.1:9" in answer.json()["detail"]
