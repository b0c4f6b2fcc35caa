"""Assertions the conformance checks make: each failure says what was expected and got."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn, TypeVar

from shipyard.errors import NotFoundError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "expect",
    "expect_equal",
    "expect_fields",
    "expect_found",
    "expect_raises",
    "expect_recent",
    "expect_utc",
    "fail",
]

T = TypeVar("T")

_CLOCK_SKEW = timedelta(minutes=10)  # tolerated between this process and a store server


def fail(message: str) -> NoReturn:
    raise AssertionError(message)


def expect(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def expect_equal(got: object, expected: object, what: str) -> None:
    if got != expected:
        fail(f"{what}: expected {expected!r}, got {got!r}")


def expect_fields(record: object, expected: Mapping[str, object], what: str) -> None:
    got = {name: getattr(record, name) for name in expected}
    if got != expected:
        wrong = {name: got[name] for name in expected if got[name] != expected[name]}
        right = {name: expected[name] for name in wrong}
        fail(f"{what}: expected fields {right!r}, got {wrong!r}")


def expect_raises(error: type[Exception], call: Callable[[], object], what: str) -> None:
    try:
        result = call()
    except error:
        return
    except Exception as exc:
        raise AssertionError(f"{what} must raise {error.__name__}; it raised {exc!r}") from exc
    fail(f"{what} must raise {error.__name__}; it returned {result!r}")


def expect_found(call: Callable[[], T], what: str) -> T:
    try:
        return call()
    except NotFoundError as exc:
        raise AssertionError(f"{what} must find what it was asked for; it raised {exc!r}") from exc


def expect_utc(value: datetime | None, what: str) -> None:
    if value is None or value.utcoffset() != timedelta(0):
        fail(f"{what} must be a timezone-aware UTC datetime, got {value!r}")


def expect_recent(value: datetime, since: datetime, what: str) -> None:
    expect_utc(value, what)
    if not since - _CLOCK_SKEW <= value <= datetime.now(UTC) + _CLOCK_SKEW:
        fail(f"{what} must be about now ({since.isoformat()}), got {value.isoformat()}")
