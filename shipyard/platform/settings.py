"""Where the platform server keeps its queue and files: its store, artifact root, data dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shipyard.config import load_settings
from shipyard.errors import ConfigError
from shipyard.platform.jobs.spaces import is_url

__all__ = ["ServerSettings", "server_settings"]


@dataclass(frozen=True)
class ServerSettings:
    """The server's store (jobs, users...), artifact root and local data directory.

    Attributes:
        store_url: The store's URL.
        artifact_root: What every worker reaches: projects' artifacts and packages. A
            local or mounted directory, or an object store URL (`s3://bucket/prefix`).
        data_dir: What stays on this machine: jobs' working directories, endpoints' model
            repositories and, with a SQLite store, projects' stores.
    """

    store_url: str
    artifact_root: str
    data_dir: Path

    @property
    def remote(self) -> bool:
        """Whether the artifact root is an object store."""
        return is_url(self.artifact_root)


def server_settings(
    store: str | None, artifact_root: str | None, data_dir: Path | None = None
) -> ServerSettings:
    """Resolve `--store`, `--artifact-root` (as every command does) and `--data-dir`.

    The data directory defaults to the artifact root when that is a directory.

    Raises:
        ConfigError: The artifact root is a URL and no data directory is given.
    """
    settings = load_settings(store=store, artifact_root=artifact_root)
    root = settings.artifact_root
    if not is_url(root):
        root = str(Path(root.removeprefix("file://")).expanduser().resolve())
    elif data_dir is None:
        raise ConfigError(
            f"The server's artifact root {root!r} is an object store, so the server and "
            "its workers need a local directory too: jobs' working directories, endpoints' "
            "models and SQLite stores are kept there.",
            hint="Add --data-dir DIR (e.g. --data-dir /var/lib/shipyard).",
        )
    local = Path(root) if data_dir is None else data_dir.expanduser().resolve()
    return ServerSettings(settings.store_url, root, local)
