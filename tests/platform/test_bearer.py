"""API tokens as clients hold them, and the Authorization header."""

from __future__ import annotations

import hashlib

import pytest

from shipyard.platform.access import Unauthenticated
from shipyard.platform.auth.bearer import TOKEN_PREFIX, bearer_token, hash_token, new_token


def test_tokens_are_random_recognisable_and_hashed_with_sha256() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert token.startswith(TOKEN_PREFIX) and len(token) == 47
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()


def test_the_bearer_scheme_is_read_whatever_its_case() -> None:
    token = new_token()
    assert bearer_token(f"Bearer {token}") == token
    assert bearer_token(f"bearer  {token} ") == token


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("Basic YW5hOnB3", "must be 'Bearer TOKEN'"),
        ("Bearer", "must be 'Bearer TOKEN'"),
        ("Bearer ", "must be 'Bearer TOKEN'"),
        ("shp_" + "a" * 43, "must be 'Bearer TOKEN'"),
        ("Bearer ghp_" + "a" * 43, "not a Shipyard token"),
        ("Bearer shp_short", "not a Shipyard token"),
    ],
)
def test_a_malformed_header_is_unauthenticated(header: str, says: str) -> None:
    with pytest.raises(Unauthenticated, match=says):
        bearer_token(header)
