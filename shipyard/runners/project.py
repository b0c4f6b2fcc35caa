"""A `Project`: the metadata store and artifact storage that runs of one directory share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.config import Settings, load_settings
from shipyard.io import ArtifactStorage

if TYPE_CHECKING:
    from pathlib import Path

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
        cls, *, store: str | None = None, artifact_root: str | None = None, cwd: Path | None = None
    ) -> Project:
        """Resolve the settings (flags, environment, config file, defaults) of a project."""
        return cls(load_settings(store=store, artifact_root=artifact_root, cwd=cwd))

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
