"""Schemathesis sends what `/api/openapi.json` allows (and what it does not) to the UI's API
on the penguins store: no request gets a server error, every answer matches the document."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import schemathesis

from tests.fuzzing import call_and_validate_each

if TYPE_CHECKING:
    from tests.ui.conftest import Penguins

EXAMPLES = 15
"""Hypothesis examples per operation and generation mode: about 150 requests in all."""


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_no_request_gets_a_server_error(
    penguins: Penguins, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(f"{penguins.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    if mode is schemathesis.GenerationMode.NEGATIVE:  # a run id is any text, and the models
        # listing takes no parameter: nothing to negate
        operations = [
            op for op in operations if "{run_id}" not in op.path and op.path != "/api/models"
        ]
    call_and_validate_each(operations, mode, examples=EXAMPLES)
