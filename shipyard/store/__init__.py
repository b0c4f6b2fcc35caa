"""The metadata and lineage store: runs, executions, artifacts, events.

Owns the `MetadataStore` protocol, its records and the SQLAlchemy implementation.
May import `shipyard.io`, `shipyard.errors`, `shipyard.config` and `shipyard.plugins` only.
"""

from shipyard.store.protocol import MetadataStore
from shipyard.store.records import (
    ArtifactRecord,
    Claim,
    Event,
    ExecutionRecord,
    NewArtifact,
    RunOutput,
    RunPage,
    RunQuery,
    RunRecord,
)

__all__ = [
    "ArtifactRecord",
    "Claim",
    "Event",
    "ExecutionRecord",
    "MetadataStore",
    "NewArtifact",
    "RunOutput",
    "RunPage",
    "RunQuery",
    "RunRecord",
    "open_store",
]


def open_store(url: str) -> MetadataStore:
    """Open (creating and migrating if needed) the store at `url`.

    The URL's scheme picks the backend registered under the `shipyard.stores` entry point
    (`sqlite`, `postgresql`, or a plugin's); a driver suffix (`postgresql+psycopg`) is
    ignored for the choice. The backend is called with the whole URL.

    Raises:
        ConfigError: The URL has no scheme, or no backend is registered for it.
        PluginNotInstalled: The backend's optional dependencies are missing.

    Example:
        >>> store = open_store("sqlite:///.shipyard/store.db")
    """
    from shipyard.errors import ConfigError
    from shipyard.plugins import BUILTIN, available, load_entry_point

    scheme, separator, _ = url.partition("://")
    backend = scheme.split("+", 1)[0].lower()
    known_here = backend in BUILTIN["shipyard.stores"]
    if not separator or not (known_here or backend in available("shipyard.stores")):
        known = ", ".join(f"{name}://" for name in sorted(available("shipyard.stores")))
        raise ConfigError(
            f"Cannot open the store {url!r}: no store backend for "
            f"{backend + '://' if separator else 'a URL without a scheme'}; known: {known}. "
            f"Use e.g. sqlite:///.shipyard/store.db, or install the plugin that registers "
            f"the scheme under the 'shipyard.stores' entry point."
        )
    store: MetadataStore = load_entry_point("shipyard.stores", backend)(url)
    return store
