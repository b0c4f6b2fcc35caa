"""The metadata and lineage store: runs, executions, artifacts, events.

Owns the `MetadataStore` protocol, its records and the SQLAlchemy implementation.
May import `shipyard.io`, `shipyard.errors` and `shipyard.config` only.
"""

from shipyard.store.protocol import MetadataStore
from shipyard.store.records import (
    ArtifactRecord,
    Event,
    ExecutionRecord,
    NewArtifact,
    RunRecord,
)

__all__ = [
    "ArtifactRecord",
    "Event",
    "ExecutionRecord",
    "MetadataStore",
    "NewArtifact",
    "RunRecord",
    "open_store",
]


def open_store(url: str) -> MetadataStore:
    """Open (creating and migrating if needed) the store at a SQLAlchemy URL.

    Example:
        >>> store = open_store("sqlite:///.shipyard/store.db")
    """
    from shipyard.store.sql import SqlStore

    return SqlStore(url)
