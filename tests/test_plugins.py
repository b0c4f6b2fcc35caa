"""Entry points are read once per process, for every group at once."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import pytest

from shipyard import plugins


def test_every_group_comes_from_one_scan_of_the_installed_packages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scans: list[dict[str, Any]] = []

    def counting(**selection: Any) -> Any:
        scans.append(selection)
        return metadata.entry_points(**selection)

    monkeypatch.setattr(plugins, "entry_points", counting)
    plugins._scan.cache_clear()
    plugins._installed.cache_clear()
    try:
        assert plugins.available("shipyard.stores")["sqlite"] == "shipyard.store.sql:SqlStore"
        assert plugins.available("shipyard.engines")["threads"].endswith(":ThreadEngine")
        assert plugins.available("shipyard.no_such_group") == {}
        assert scans == [{}]
    finally:
        plugins._scan.cache_clear()
        plugins._installed.cache_clear()
