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
    read = metadata.entry_points

    def counting(**selection: Any) -> Any:
        scans.append(selection)
        return read(**selection)

    monkeypatch.setattr(metadata, "entry_points", counting)
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


def test_a_built_in_backend_resolves_without_reading_installed_packages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(**selection: Any) -> Any:
        raise AssertionError("the installed entry points were read")

    monkeypatch.setattr(metadata, "entry_points", refuse)
    plugins._scan.cache_clear()
    plugins._installed.cache_clear()
    try:
        assert plugins.load_entry_point("shipyard.stores", "sqlite").__name__ == "SqlStore"
        assert plugins.load_entry_point("shipyard.engines", "threads").__name__ == "ThreadEngine"
    finally:
        plugins._scan.cache_clear()
        plugins._installed.cache_clear()


def test_an_installed_entry_point_never_replaces_a_built_in_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hijack = metadata.EntryPoint("sqlite", "json:loads", "shipyard.stores")
    extra = metadata.EntryPoint("memory", "json:dumps", "shipyard.stores")
    monkeypatch.setattr(metadata, "entry_points", lambda **_: metadata.EntryPoints([hijack, extra]))
    plugins._scan.cache_clear()
    plugins._installed.cache_clear()
    try:
        found = plugins.available("shipyard.stores")
        assert found["sqlite"] == "shipyard.store.sql:SqlStore"
        assert found["memory"] == "json:dumps"
    finally:
        plugins._scan.cache_clear()
        plugins._installed.cache_clear()
