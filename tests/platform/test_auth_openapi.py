"""The auth API's OpenAPI paths: they list every route, no route but the logins answers
without a token, and schemathesis finds no server error as a server administrator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import negative_data_rejection
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from shipyard.platform.auth.layer import auth_layer
from shipyard.platform.auth.oidc import OidcSettings
from shipyard.platform.auth.openapi import auth_paths
from shipyard.ui.openapi import openapi_document
from tests.fuzzing import call_and_validate_each
from tests.platform.conftest import HOST
from tests.platform.http import call
from tests.ui.server import serving

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.requests import Request

    from shipyard.platform.database import Database

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
EXAMPLES = 10
"""Hypothesis examples per operation and generation mode."""


def _document() -> dict[str, Any]:
    document = openapi_document()
    document["paths"] = auth_paths(oidc=True)
    document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    document["security"] = [{"bearer": []}]
    return document


async def _openapi(request: Request) -> JSONResponse:
    return JSONResponse(_document())


@pytest.fixture
def app(database: Database) -> Starlette:
    auth = auth_layer(database, oidc=OidcSettings("http://127.0.0.1:9", "shipyard"))
    auth.accounts.add_user("root", actor=HOST, superuser=True)
    auth.accounts.add_project("taxi", actor=HOST)
    return Starlette(
        routes=[*auth.routes, Route("/api/openapi.json", _openapi)],
        middleware=[auth.middleware],
        exception_handlers={**auth.exception_handlers},
    )


def test_the_paths_document_every_route_and_only_those(app: Starlette) -> None:
    routed = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, Route) and route.path != "/api/openapi.json"
        for method in (route.methods or ()) - {"HEAD"}
    }
    documented = {(path, method) for path, item in auth_paths(oidc=True).items() for method in item}
    assert routed == documented


def test_no_route_but_the_logins_answers_without_a_token(app: Starlette) -> None:
    public = {"/api/login", "/api/oidc/login", "/api/oidc/callback"}
    with serving(app) as url:
        for path, item in auth_paths(oidc=True).items():
            for method in item:
                answer = call(method.upper(), url + path.replace("{", "x").replace("}", ""))
                if path in public:
                    assert answer.status != 401 or path == "/api/oidc/callback", path
                else:
                    assert answer.status == 401, (method, path, answer.status)


@pytest.fixture
def served(app: Starlette, database: Database) -> Iterator[tuple[str, str]]:
    """The app's URL, and the token of a server administrator."""
    from shipyard.platform.auth.accounts import Accounts

    token = Accounts(database).create_token("root", actor=HOST).secret
    with serving(app) as url:
        yield url, token


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_no_request_gets_a_server_error(
    served: tuple[str, str], mode: schemathesis.GenerationMode
) -> None:
    url, token = served
    schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if not result.ok().path.startswith("/api/oidc/")  # its provider is not there: a 502
    ]
    assert len(operations) == 12
    bearer = {"Authorization": f"Bearer {token}"}
    # A negative case may lack the token's header, which `headers` puts back: that such a
    # request is accepted says nothing (the positive mode's ignored_auth check removes it).
    excluded = [negative_data_rejection] if mode is schemathesis.GenerationMode.NEGATIVE else []
    call_and_validate_each(
        operations, mode, examples=EXAMPLES, headers=bearer, excluded_checks=excluded
    )
