"""A real server on 127.0.0.1 for the client tests, serving `penguins` and `double`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shipyard.serving.config import ModelConfig, VersionPolicy
from tests.client.models import repository
from tests.serving.server import RunningServer

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`penguins` (versions 1 and 2, labels stable -> 1, canary -> 2) and `double` (1)."""
    root = repository(tmp_path_factory)
    models = [
        ModelConfig(
            "penguins",
            root / "penguins",
            VersionPolicy(kind="all"),
            labels={"stable": 1, "canary": 2},
        ),
        ModelConfig("double", root / "double"),
    ]
    with RunningServer(models) as running:
        yield running


@pytest.fixture(scope="session")
def url(server: RunningServer) -> str:
    """The server's base URL."""
    return f"http://127.0.0.1:{server.port}"
