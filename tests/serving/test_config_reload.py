"""The reloader reads a changed model config again: new labels and canaries, no restart."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from shipyard.serving.config import Canary, RuntimeOptions, read_model_config
from shipyard.serving.labels import start_canary
from shipyard.serving.registry import ModelRegistry
from shipyard.serving.reload import Reloader


def _bump(path: Path) -> None:
    """Move the file's modification time on, as a later write would."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def test_a_changed_config_applies_an_invalid_one_is_logged_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for version in (1, 2):
        (tmp_path / "penguins" / str(version)).mkdir(parents=True)
    config = tmp_path / "models.yaml"
    config.write_text("models:\n  - {name: penguins, base_path: penguins, labels: {stable: 1}}\n")
    registry = ModelRegistry(read_model_config(config).models, RuntimeOptions(device="cpu"))
    reloader = Reloader(registry, poll_s=0, config_file=config)
    assert reloader.reread_config() is False  # unchanged since the reloader was made

    start_canary(config, name="penguins", base_path=tmp_path / "penguins", version=2, percent=10)
    _bump(config)
    assert reloader.reread_config() is True
    assert registry.config("penguins").canary == Canary(version=2, percent=10)
    assert registry.config("penguins").labels == {"stable": 1, "canary": 2}
    assert reloader.reread_config() is False

    config.write_text("models: [{name: penguins}]\n")  # no base_path
    _bump(config)
    with caplog.at_level(logging.ERROR, logger="shipyard.serving"):
        assert reloader.reread_config() is False
    assert "Keeping the previous model config" in caplog.text
    assert registry.config("penguins").canary == Canary(version=2, percent=10)

    config.write_text(
        "models:\n  - {name: penguins, base_path: penguins}\n  - {name: mass, base_path: mass}\n"
    )
    _bump(config)
    with caplog.at_level(logging.WARNING, logger="shipyard.serving"):
        assert reloader.reread_config() is True
    assert "lists models not served here (mass); restart the server" in caplog.text
    assert registry.config("penguins").canary is None
