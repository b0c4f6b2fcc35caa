"""Open a project's store so that nothing can write to it: the UI only reads.

SQLite is opened as a read-only URI (`mode=ro`); PostgreSQL sessions default to read-only
transactions. Either way a write fails in the database, whatever the code asks. The store
still names itself by the URL the user gave, so a run's JSON (`"store"`) is the CLI's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from shipyard.errors import StoreError
from shipyard.runners import Project
from shipyard.store import open_store
from shipyard.store.sql.connection import parse_url
from shipyard.store.sql.migrations import LATEST_VERSION, schema_version

if TYPE_CHECKING:
    from shipyard.store import MetadataStore

_SQLITE = "sqlite:///"
_READ_ONLY_POSTGRES = "options=" + quote("-c default_transaction_read_only=on")


def open_read_only(store: str | None = None, artifact_root: str | None = None) -> Project:
    """Find the project's store as `shipyard runs` does and open it read-only.

    Args:
        store: The store URL given by a flag (or SHIPYARD_STORE); None to find it.
        artifact_root: The artifact root given by a flag; None for the project's.

    Raises:
        NotFoundError: There is no store to open.
        StoreError: The store cannot be opened, or it needs migrating, which takes a write
            (the message says to run `shipyard runs` first).
    """
    settings = Project.open(store=store, artifact_root=artifact_root, create=False).settings
    named = parse_url(settings.store_url).render_as_string(hide_password=True)
    try:
        opened = open_store(read_only_url(settings.store_url))
    except StoreError as exc:
        _refuse_an_older_schema(read_only_url(settings.store_url), named, exc)
        raise
    return Project(settings, _store=cast("MetadataStore", _Named(opened, named)))


def read_only_url(url: str) -> str:
    """Return the URL that opens the same database read-only."""
    if url.startswith(_SQLITE) and "?" not in url:
        path = Path(url[len(_SQLITE) :]).resolve()
        return f"{_SQLITE}file:{quote(str(path))}?mode=ro&uri=true"
    if url.startswith(("postgresql://", "postgresql+", "postgres://")) and "options=" not in url:
        return url + ("&" if "?" in url else "?") + _READ_ONLY_POSTGRES
    return url


def _refuse_an_older_schema(url: str, named: str, failure: StoreError) -> None:
    """Raise a clear error when opening failed because the store needs a migration (a write)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            version = schema_version(conn)
    except SQLAlchemyError:
        return  # not a schema we can read: the original error says why
    finally:
        engine.dispose()
    if 0 < version < LATEST_VERSION:
        raise StoreError(
            f"The store at {named} is at schema version {version}; this Shipyard needs "
            f"version {LATEST_VERSION}, and `shipyard ui` opens stores read-only.",
            hint="Run `shipyard runs` once (it upgrades the store), then start the UI again.",
        ) from failure


class _Named:
    """A store that answers `url` with another name and passes everything else on."""

    def __init__(self, store: MetadataStore, url: str) -> None:
        self._store = store
        self.url = url

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
