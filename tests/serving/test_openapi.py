"""`/openapi.json` describes every route, and schemathesis finds no server error through it."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzzing import call_and_validate_each
from tests.serving.server import RunningServer

EXAMPLES = 12
"""Hypothesis examples per operation and generation mode: about 600 requests in all.

Every check runs but `positive_data_acceptance`: the document describes the protocols, not
each model's features, so a body valid for it may still lack a feature the model needs (400).
"""


def test_the_document_lists_every_route(api_server: RunningServer) -> None:
    status, document = api_server.get("/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.1")
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = set()
    for route in api_server.app.routes:
        path = route.path.replace(":int}", "}")
        for method in route.methods - {"HEAD"}:
            methods = ("predict", "classify", "regress") if "{method}" in path else ("",)
            served |= {(method, path.replace("{method}", m)) for m in methods}
    assert documented == served - {("GET", "/openapi.json")}
    predict = document["paths"]["/v1/models/{name}:predict"]["post"]
    assert predict["parameters"][0]["schema"]["enum"] == ["mass", "mixed", "penguins"]


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_no_request_gets_a_server_error(
    api_server: RunningServer, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{api_server.port}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 26
    if mode is schemathesis.GenerationMode.NEGATIVE:  # only what takes input can be negated
        operations = [op for op in operations if "{" in op.path or op.method == "post"]

    call_and_validate_each(
        operations, mode, examples=EXAMPLES, excluded_checks=[positive_data_acceptance]
    )
