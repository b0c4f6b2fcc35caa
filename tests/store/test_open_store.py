"""open_store picks the store backend from the URL's scheme through the plugin registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard import plugins
from shipyard.errors import ConfigError, PluginNotInstalled
from shipyard.store import open_store
from shipyard.store.sql import SqlStore


class RecordingStore:
    """A stand-in backend: records the URL it was opened with."""

    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    stores = {
        **plugins.BUILTIN["shipyard.stores"],
        "memory": f"{__name__}:RecordingStore",
        "broken": "shipyard_no_such_module.store:Store",
    }
    monkeypatch.setitem(plugins.BUILTIN, "shipyard.stores", stores)
    plugins._scan.cache_clear()
    yield
    plugins._scan.cache_clear()


@pytest.mark.usefixtures("registry")
def test_a_registered_scheme_opens_its_backend_with_the_url() -> None:
    store = open_store("memory+fast://bucket/x")
    assert isinstance(store, RecordingStore) and store.url == "memory+fast://bucket/x"


@pytest.mark.usefixtures("registry")
def test_a_backend_whose_module_is_missing_names_the_install_command() -> None:
    with pytest.raises(PluginNotInstalled, match=r'pip install "shipyard\[broken\]"'):
        open_store("broken://x")


def test_sqlite_urls_open_the_sql_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        assert isinstance(store, SqlStore)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "named"),
    [("mysql://db/x", "no store backend for mysql://"), ("store.db", "without a scheme")],
)
def test_an_unknown_scheme_is_a_configuration_error(url: str, named: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_store(url)
    message = str(info.value)
    assert named in message and repr(url) in message
    assert "known: postgresql://, sqlite://" in message


def test_every_declared_group_is_read_by_shipyard() -> None:
    package = Path(plugins.__file__).parent
    sources = "".join(
        file.read_text(encoding="utf-8")
        for file in package.rglob("*.py")
        if file.name != "plugins.py"
    )
    unread = [g for g in plugins.GROUPS if f'load_entry_point("{g}"' not in sources]
    assert not unread, f"entry-point groups nothing loads from: {unread}"
