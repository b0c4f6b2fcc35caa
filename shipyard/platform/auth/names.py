"""Which names users and projects may have: checked once, at the edge, with one message."""

from __future__ import annotations

import re
from typing import Final

from shipyard.errors import InvalidParameterError

__all__ = ["check_project_name", "check_user_name"]

# A user name may be an e-mail address (OIDC users are matched by theirs).
_USER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")
_USER_RULE: Final = "1 to 128 letters, digits, '.', '_', '@', '+' or '-'"
# A project name also names its artifact root's directory and may name a database schema.
_PROJECT: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
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
