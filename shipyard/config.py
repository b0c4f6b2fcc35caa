"""Where a project keeps its metadata store and artifacts.

Precedence: explicit arguments (CLI flags), then environment variables (`SHIPYARD_STORE`,
`SHIPYARD_ARTIFACT_ROOT`, `SHIPYARD_HOME`), then `.shipyard/config.toml` in the home
directory, then the embedded defaults: SQLite at `.shipyard/store.db` and artifacts under
`.shipyard/artifacts`, both below the working directory.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from shipyard.errors import ConfigError

HOME_DIRNAME = ".shipyard"
CONFIG_KEYS = ("store", "artifact_root")


@dataclass(frozen=True)
class Settings:
    """Resolved locations of one project.

    Attributes:
        home: The project's `.shipyard` directory (local scratch: staging, caches).
        store_url: SQLAlchemy URL of the metadata store.
        artifact_root: Local directory or fsspec URL under which artifacts are published.
    """

    home: Path
    store_url: str
    artifact_root: str


def load_settings(
    *, store: str | None = None, artifact_root: str | None = None, cwd: Path | None = None
) -> Settings:
    """Resolve the settings for a project rooted at `cwd` (default: the working directory).

    Raises:
        ConfigError: The config file cannot be parsed or has unknown keys.
    """
    base = (cwd or Path.cwd()).resolve()
    home = Path(os.environ.get("SHIPYARD_HOME") or base / HOME_DIRNAME).resolve()
    file_values = _read_config_file(home / "config.toml")
    store_url = store or os.environ.get("SHIPYARD_STORE") or file_values.get("store")
    root = (
        artifact_root
        or os.environ.get("SHIPYARD_ARTIFACT_ROOT")
        or file_values.get("artifact_root")
    )
    return Settings(
        home=home,
        store_url=store_url or f"sqlite:///{home / 'store.db'}",
        artifact_root=_absolute(root, base) if root else str(home / "artifacts"),
    )


def _absolute(location: str, base: Path) -> str:
    if "://" in location:
        return location
    return str((base / location).resolve())


def _read_config_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot parse the config file: {exc}") from exc
    unknown = sorted(set(values) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the config file takes {', '.join(CONFIG_KEYS)}."
        )
    bad = [key for key, value in values.items() if not isinstance(value, str)]
    if bad:
        raise ConfigError(f"{path}: {', '.join(bad)} must be a string (a URL or a path).")
    return dict(values)
