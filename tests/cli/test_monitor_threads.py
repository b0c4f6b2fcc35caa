"""`shipyard monitor` starts no thread pool it does not use."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from shipyard.cli.main import app

if TYPE_CHECKING:
    import pytest


def test_monitor_starts_no_blas_threads_unless_the_user_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    result = CliRunner().invoke(app, ["monitor", "logs", "--window", "1week"])
    assert result.exit_code == 2  # the flag is refused after the setting is made
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    CliRunner().invoke(app, ["monitor", "logs", "--window", "1week"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"
