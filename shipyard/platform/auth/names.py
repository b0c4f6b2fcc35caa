"""Which names users and projects may have: checked once, at the edge, with one message."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from shipyard.errors import AlreadyExistsError, InvalidParameterError, StoreError
from shipyard.platform.database import lost_a_race

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "PROJECT_PATTERN",
    "USER_PATTERN",
    "check_project_name",
    "check_user_name",
    "taken_once",
]

# A user name may be an e-mail address (OIDC users are matched by theirs).
USER_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$"
_USER: Final = re.compile(USER_PATTERN)
_USER_RULE: Final = "1 to 128 letters, digits, '.', '_', '@', '+' or '-'"
# A project name also names its artifact root's directory and may name a database schema.
PROJECT_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_PROJECT: Final = re.compile(PROJECT_PATTERN)
_PROJECT_RULE: Final = "1 to 63 lowercase letters, digits, '_' or '-'"


def check_user_name(name: str) -> str:
    """Return `name` if it can name a user.

    Raises:
        InvalidParameterError: It is not 1 to 128 letters, digits, `.`, `_`, `@`, `+` or `-`
            starting with a letter or digit.
    """
    return _checked("user", _USER, _USER_RULE, name)


def check_project_name(name: str) -> str:
    """Return `name` if it can name a project.

    Raises:
        InvalidParameterError: It is not 1 to 63 lowercase letters, digits, `_` or `-`
            starting with a letter or digit.
    """
    return _checked("project", _PROJECT, _PROJECT_RULE, name)


def _checked(what: str, pattern: re.Pattern[str], rule: str, name: str) -> str:
    if pattern.fullmatch(name) is None:
        raise InvalidParameterError(
            f"A {what} name must be {rule}, starting with a letter or digit. Got {name!r} instead."
        )
    return name


@contextmanager
def taken_once(what: str, name: str) -> Iterator[None]:
    """Turn the unique constraint's refusal of a second `what` named `name` into a 409.

    Writers look for the name first; this catches the one that lost a race (PostgreSQL).

    Raises:
        AlreadyExistsError: The block's write broke the name's unique constraint.
    """
    try:
        yield
    except StoreError as exc:
        if lost_a_race(exc):
            raise AlreadyExistsError(f"A {what} named {name!r} exists already.") from exc
        raise
