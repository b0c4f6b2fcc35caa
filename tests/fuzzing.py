"""Schemathesis over an OpenAPI document's operations: the one loop the API tests share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings

if TYPE_CHECKING:
    from collections.abc import Iterable

    import schemathesis


def call_and_validate_each(
    operations: Iterable[Any],
    mode: schemathesis.GenerationMode,
    *,
    examples: int,
    excluded_checks: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Send `examples` generated requests to each operation (with `headers`, e.g. a token);
    fail on any check's failure."""
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(excluded_checks=excluded_checks, headers=headers)

        check()
