"""A `Project`: the metadata store and artifact storage that runs of one directory share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.config import HOME_DIRNAME, Settings, load_settings
from shipyard.errors import NotFoundError
from shipyard.io import ArtifactStorage

if TYPE_CHECKING:
    from shipyard.store import MetadataStore


@dataclass
class Project:
    """Opens the store lazily, so listing runs never touches artifact storage and vice versa.

    Example:
        >>> with Project.open() as project:
        ...     project.store.list_runs(limit=5)
    """

    settings: Settings
    _store: MetadataStore | None = field(default=None, repr=False)
    _storage: ArtifactStorage | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        *,
        store: str | None = None,
        artifact_root: str | None = None,
        cwd: Path | None = None,
        create: bool = True,
    ) -> Project:
        """Resolve the settings (flags, environment, config file, defaults) of a project.

        The project is the nearest `.shipyard/` at or above `cwd` (or `SHIPYARD_HOME`), as
        git finds its repository; see `shipyard.config`.

        Args:
            store: The store URL given by a flag.
            artifact_root: The artifact root given by a flag.
            cwd: Where to look from (default: the working directory).
            create: Whether a missing store may be created (by the first run). Commands
                that only read pass False, and get an error saying where they looked.

        Raises:
            NotFoundError: `create` is False and there is no store to open.
            ConfigError: The config file cannot be parsed or has unknown keys.
        """
        settings = load_settings(store=store, artifact_root=artifact_root, cwd=cwd)
        if not create:
            _require_store(settings)
        return cls(settings)

    @property
    def is_new(self) -> bool:
        """Whether the store does not exist yet: a SQLite file that no run has made."""
        database = _sqlite_file(self.settings.store_url)
        return self._store is None and database is not None and not database.exists()

    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            from shipyard.store import open_store

            self._store = open_store(self.settings.store_url)
        return self._store

    @property
    def storage(self) -> ArtifactStorage:
        if self._storage is None:
            self._storage = ArtifactStorage(
                self.settings.artifact_root, scratch_dir=self.settings.home
            )
        return self._storage

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_CREATE_HINT = (
    "Run a pipeline in the project's directory to create one (shipyard run PIPELINE.py), "
    "or point at an existing store with --store URL, SHIPYARD_STORE or SHIPYARD_HOME=DIR."
)


def _require_store(settings: Settings) -> None:
    """Raise unless the store of `settings` exists; a SQLite file is looked for, not made."""
    database = _sqlite_file(settings.store_url)
    if settings.store_origin != "default":
        if database is not None and not database.is_file():
            raise NotFoundError(
                f"No metadata store at {database}: the {settings.store_origin} store URL "
                f"{settings.store_url!r} names a SQLite file that does not exist.",
                hint=_CREATE_HINT,
            )
        return
    if settings.home_origin == "new":
        start = settings.searched_from or settings.home.parent
        raise NotFoundError(
            f"No Shipyard store found: looked for a {HOME_DIRNAME}/ directory in {start} and "
            f"every directory above it, and SHIPYARD_HOME is not set.",
            hint=_CREATE_HINT,
        )
    if database is not None and not database.is_file():
        origin = "SHIPYARD_HOME" if settings.home_origin == "environment" else "found"
        raise NotFoundError(
            f"No metadata store in {settings.home} ({origin}): {database.name} does not exist; "
            f"no pipeline has run with this store yet.",
            hint=_CREATE_HINT,
        )


def _sqlite_file(url: str) -> Path | None:
    """The file of a `sqlite:///PATH` URL (relative to the working directory); else None."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :].split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).resolve()
