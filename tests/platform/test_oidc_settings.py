"""The OIDC flags of the server: both or neither, and an issuer URL."""

from __future__ import annotations

import pytest

from shipyard.errors import ConfigError
from shipyard.platform.auth.layer import oidc_settings


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        ({"issuer": "https://id.example.com"}, "--oidc-issuer needs --oidc-client-id"),
        ({"client_id": "shipyard"}, "--oidc-client-id needs --oidc-issuer"),
        ({"issuer": "id.example.com", "client_id": "s"}, "Got 'id.example.com' instead"),
        ({"client_secret": "s"}, "need --oidc-issuer and --oidc-client-id"),
    ],
)
def test_the_oidc_flags_go_together(flags: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        oidc_settings(
            flags.get("issuer"),
            flags.get("client_id"),
            flags.get("client_secret"),
            flags.get("redirect_url"),
        )
    assert oidc_settings(None, None) is None
