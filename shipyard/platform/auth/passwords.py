"""Password hashes: argon2id (RFC 9106) through argon2-cffi, with its default cost.

Only the hash is stored; it carries its own salt and parameters, so a later release may raise
the cost and `needs_rehash` says which stored hashes to replace at the next login.
"""

from __future__ import annotations

from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shipyard.errors import InvalidParameterError

__all__ = [
    "MIN_PASSWORD_CHARS",
    "check_password_rules",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

MIN_PASSWORD_CHARS: Final = 8
MAX_PASSWORD_CHARS: Final = 1024
_HASHER: Final = PasswordHasher()


def check_password_rules(password: str) -> None:
    """Refuse a password too short or too long to be set.

    Raises:
        InvalidParameterError: It has fewer than 8 or more than 1024 characters.
    """
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidParameterError(
            f"A password must have {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters. "
            f"Got {len(password)} instead."
        )


def hash_password(password: str) -> str:
    """Return the argon2id hash of `password` (salted), after `check_password_rules`."""
    check_password_rules(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether `password` is the one `stored_hash` was made from (False for a broken hash)."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether `stored_hash` was made with other parameters than this release's."""
    return _HASHER.check_needs_rehash(stored_hash)
