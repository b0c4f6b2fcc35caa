"""Open a project's store so that nothing can write to it: the UI only reads.

SQLite is opened as a read-only URI (`mode=ro`); PostgreSQL sessions default to read-only
transactions. Either way a write fails in the database, whatever the code asks.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from shipyard.runners import Project

_SQLITE = "sqlite:///"
_READ_ONLY_POSTGRES = "options=" + quote("-c default_transaction_read_only=on")


def open_read_only(store: str | None = None, artifact_root: str | None = None) -> Project:
    """Find the project's store as `shipyard runs` does and open it read-only.

    Args:
        store: The store URL given by a flag (or SHIPYARD_STORE); None to find it.
        artifact_root: The artifact root given by a flag; None for the project's.

    Raises:
        NotFoundError: There is no store to open.
    """
    found = Project.open(store=store, artifact_root=artifact_root, create=False)
    settings = found.settings
    return Project.open(
        store=read_only_url(settings.store_url),
        artifact_root=settings.artifact_root,
        create=False,
    )


def read_only_url(url: str) -> str:
    """Return the URL that opens the same database read-only."""
    if url.startswith(_SQLITE) and "?" not in url:
        path = Path(url[len(_SQLITE) :]).resolve()
        return f"{_SQLITE}file:{quote(str(path))}?mode=ro&uri=true"
    if url.startswith(("postgresql://", "postgresql+", "postgres://")) and "options=" not in url:
        return url + ("&" if "?" in url else "?") + _READ_ONLY_POSTGRES
    return url
