"""The models and endpoints API inside the platform server's app: every route needs a token,
and schemathesis finds no server error in it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import schemathesis
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from shipyard.platform.models.openapi import PROXY_PREFIX
from shipyard.platform.models.registry import ModelRegistry
from shipyard.platform.models.supervisor import EndpointSupervisor
from shipyard.platform.server import create_server_app
from tests.fuzzing import call_and_validate_each
from tests.platform.conftest import HOST
from tests.platform.http import call
from tests.platform.jobs.platform_server import running_platform
from tests.ui.server import serving

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

EXAMPLES = 10
"""Hypothesis examples per operation and generation mode."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The server's app with the models API, on a store with project `taxi`; its URL and a
    server administrator's token."""
    with running_platform(tmp_path) as platform:
        platform.service.accounts.add_project("taxi", actor=HOST)
        registry = ModelRegistry(platform.queue.database, lambda project: platform.store_url)
        supervisor = EndpointSupervisor(registry, tmp_path / "root")
        app = create_server_app(platform.service, platform.auth, endpoints=supervisor)
        with serving(app) as url:
            yield url, platform.tokens["root"]
        supervisor.close()


def test_no_models_route_answers_without_a_token(server: tuple[str, str]) -> None:
    url, _ = server
    for method, path in [
        ("GET", "/api/projects/taxi/models"),
        ("POST", "/api/projects/taxi/models"),
        ("GET", "/api/projects/taxi/models/m"),
        ("POST", "/api/projects/taxi/models/m/versions"),
        ("GET", "/api/projects/taxi/endpoints"),
        ("POST", "/api/projects/taxi/endpoints"),
        ("GET", "/api/projects/taxi/endpoints/e"),
        ("DELETE", "/api/projects/taxi/endpoints/e"),
        ("PUT", "/api/projects/taxi/endpoints/e/traffic"),
        ("POST", "/api/projects/taxi/endpoints/e/promote"),
        ("POST", "/api/projects/taxi/endpoints/e/rollback"),
        ("POST", "/api/projects/taxi/endpoints/e/v1/models/m:predict"),
    ]:
        assert call(method, url + path, body={}).status == 401, (method, path)


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_no_request_to_the_models_api_gets_a_server_error(
    server: tuple[str, str], mode: schemathesis.GenerationMode
) -> None:
    url, token = server
    schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if isinstance(result, Ok)
        and result.ok().path.startswith("/api/projects/{project}/")
        and "/members" not in result.ok().path
    ]
    proxied = [op for op in operations if "/endpoints/{endpoint}/v" in op.path]
    assert len(operations) - len(proxied) == 11
    assert {(op.method.upper(), op.path.removeprefix(PROXY_PREFIX)) for op in proxied} >= {
        ("POST", "/v1/models/{name}:predict"),
        ("POST", "/v1/models/{name}/labels/{label}:predict"),
        ("GET", "/v1/models/{name}/metadata"),
        ("POST", "/v2/models/{name}/versions/{version}/infer"),
    }
    # Random projects and models do not exist: a schema-valid request is rightly a 404.
    call_and_validate_each(
        operations,
        mode,
        examples=EXAMPLES,
        excluded_checks=[positive_data_acceptance],
        headers={"Authorization": f"Bearer {token}"},
    )
