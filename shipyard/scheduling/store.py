"""The store a scheduler needs: a `MetadataStore` that is also a `FiringLog`."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from shipyard.store import MetadataStore
from shipyard.store.firings import FiringLog

__all__ = ["SchedulerStore", "open_scheduler_store", "scheduler_store"]


@runtime_checkable
class SchedulerStore(MetadataStore, FiringLog, Protocol):
    """Runs, executions and artifacts, and trigger firings and leases."""


def scheduler_store(store: MetadataStore) -> SchedulerStore:
    """Return `store` as a `SchedulerStore`.

    Raises:
        ConfigError: Its backend does not record trigger firings.
    """
    from shipyard.errors import ConfigError

    if not isinstance(store, FiringLog):
        raise ConfigError(
            f"The store {store.url} ({type(store).__name__}) does not record trigger firings, "
            "which shipyard schedule needs.",
            hint="Use a SQLite or PostgreSQL store (sqlite:///... or postgresql://...).",
        )
    return store


def open_scheduler_store(url: str) -> SchedulerStore:
    """Open the store at `url` (see `shipyard.store.open_store`) as a `SchedulerStore`.

    Raises:
        ConfigError: Its backend does not record trigger firings.
    """
    from shipyard.store import open_store

    store = open_store(url)
    try:
        return scheduler_store(store)
    except BaseException:
        store.close()
        raise
