"""Where the platform server keeps its queue and files: its store URL and a local root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shipyard.config import load_settings
from shipyard.errors import ConfigError

__all__ = ["ServerSettings", "server_settings"]


@dataclass(frozen=True)
class ServerSettings:
    """The server's store (jobs, users...) and root directory (packages, projects' spaces).

    Attributes:
        store_url: The store's URL.
        root: The artifact root: a local or mounted directory every worker sees.
    """

    store_url: str
    root: Path


def server_settings(store: str | None, artifact_root: str | None) -> ServerSettings:
    """Resolve `--store` and `--artifact-root` as every command does (`shipyard.config`).

    Raises:
        ConfigError: The artifact root is a URL (an object store): packages and projects'
            working directories need a directory.
    """
    settings = load_settings(store=store, artifact_root=artifact_root)
    if "://" in settings.artifact_root:
        raise ConfigError(
            f"The server's artifact root {settings.artifact_root!r} is a URL; the server keeps "
            "packages and projects' artifacts in a directory every worker can read.",
            hint="Give a local or mounted directory (e.g. NFS): --artifact-root /srv/shipyard",
        )
    return ServerSettings(settings.store_url, Path(settings.artifact_root))
