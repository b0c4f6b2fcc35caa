"""Password hashes: argon2id, salted, never the password; rules on length."""

from __future__ import annotations

import pytest

from shipyard.errors import InvalidParameterError
from shipyard.platform.auth.passwords import hash_password, needs_rehash, verify_password


def test_a_hash_is_argon2id_salted_and_verifies_only_its_password() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$")
    assert "correct horse" not in first
    assert first != second  # a salt of its own
    assert verify_password(first, "correct horse")
    assert not verify_password(first, "correct horsE")
    assert not verify_password("not a hash", "correct horse")


@pytest.mark.parametrize("password", ["short", "x" * 1025])
def test_a_password_too_short_or_too_long_is_refused_with_its_length(password: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"Got {len(password)} instead"):
        hash_password(password)


def test_a_hash_made_with_other_parameters_needs_rehashing() -> None:
    from argon2 import PasswordHasher

    assert not needs_rehash(hash_password("correct horse"))
    assert needs_rehash(
        PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash("correct horse")
    )
