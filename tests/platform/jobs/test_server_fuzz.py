"""Every route of the server needs a token; schemathesis finds no server error in the jobs API."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.routing import Route

from shipyard.platform.auth.middleware import PUBLIC_PATHS
from tests.fuzzing import call_and_validate_each
from tests.platform.jobs.platform_server import Platform, running_platform

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

EXAMPLES = 10
"""Hypothesis examples per operation and generation mode."""


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    with running_platform(tmp_path) as running:
        yield running


def test_no_route_answers_without_a_token(platform: Platform) -> None:
    from shipyard.platform.server import create_server_app

    app = create_server_app(platform.service)
    checked = 0
    for route in app.routes:
        assert isinstance(route, Route)
        if route.path in PUBLIC_PATHS:
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            body = {} if method in ("POST", "PUT") else None
            answer = platform.call(method, path, body=body)
            assert answer.status == 401, (method, route.path, answer.status)
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_no_request_to_the_jobs_api_gets_a_server_error(
    platform: Platform, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(f"{platform.url}/api/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().path.startswith(("/api/jobs", "/api/packages"))
    ]
    assert len(operations) == 9
    headers = {"Authorization": f"Bearer {platform.tokens['root']}"}
    # A package's body is bytes to the schema, and only a tar.gz to the server: a schema-valid
    # body is rightly refused.
    call_and_validate_each(
        operations, mode, examples=EXAMPLES, excluded_checks=[positive_data_acceptance],
        headers=headers,
    )  # fmt: skip
