"""Where a project keeps its metadata store and artifacts.

The project's home is found the way git finds its repository: `SHIPYARD_HOME` if set, else
the nearest `.shipyard/` directory in the working directory or any directory above it, else
a new `.shipyard/` in the working directory (created by the first run, never by a command
that only reads).

Precedence for the locations: explicit arguments (CLI flags), then environment variables
(`SHIPYARD_STORE`, `SHIPYARD_ARTIFACT_ROOT`), then `.shipyard/config.toml` in the home
directory, then the embedded defaults: SQLite at `HOME/store.db` and artifacts under
`HOME/artifacts`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shipyard.errors import ConfigError

HOME_DIRNAME = ".shipyard"
CONFIG_KEYS = ("store", "artifact_root")

HomeOrigin = Literal["environment", "found", "new"]
StoreOrigin = Literal["flag", "environment", "config", "default"]


@dataclass(frozen=True)
class Settings:
    """Resolved locations of one project.

    Attributes:
        home: The project's `.shipyard` directory (local scratch: staging, caches).
        store_url: SQLAlchemy URL of the metadata store.
        artifact_root: Local directory or fsspec URL under which artifacts are published.
        searched_from: The directory the home was looked for from (the working directory).
        home_origin: How the home was chosen: `SHIPYARD_HOME` ("environment"), the nearest
            `.shipyard/` at or above `searched_from` ("found"), or a new one in
            `searched_from` ("new").
        store_origin: Where the store URL came from: "flag", "environment", "config" (the
            home's config file) or "default" (`HOME/store.db`).
    """

    home: Path
    store_url: str
    artifact_root: str
    searched_from: Path | None = None
    home_origin: HomeOrigin = "new"
    store_origin: StoreOrigin = "default"


def load_settings(
    *, store: str | None = None, artifact_root: str | None = None, cwd: Path | None = None
) -> Settings:
    """Resolve the settings of the project seen from `cwd` (default: the working directory).

    Relative paths in flags and environment variables are relative to `cwd`; those in the
    config file are relative to the directory holding `.shipyard/`.

    Raises:
        ConfigError: The config file cannot be parsed or has unknown keys.
    """
    base = (cwd or Path.cwd()).resolve()
    home_origin: HomeOrigin
    if os.environ.get("SHIPYARD_HOME"):
        home, home_origin = Path(os.environ["SHIPYARD_HOME"]).expanduser().resolve(), "environment"
    else:
        found = find_home(base)
        home, home_origin = (found, "found") if found else (base / HOME_DIRNAME, "new")
    file_values = _read_config_file(home / "config.toml")
    store_origin: StoreOrigin = "default"
    store_url = f"sqlite:///{home / 'store.db'}"
    given: tuple[tuple[StoreOrigin, str | None], ...] = (
        ("flag", store),
        ("environment", os.environ.get("SHIPYARD_STORE")),
        ("config", file_values.get("store")),
    )
    for origin, url in given:
        if url:
            store_origin, store_url = origin, url
            break
    flag_root = artifact_root or os.environ.get("SHIPYARD_ARTIFACT_ROOT")
    if flag_root:
        root = _absolute(flag_root, base)
    elif file_values.get("artifact_root"):
        root = _absolute(file_values["artifact_root"], home.parent)
    else:
        root = str(home / "artifacts")
    return Settings(
        home=home,
        store_url=store_url,
        artifact_root=root,
        searched_from=base,
        home_origin=home_origin,
        store_origin=store_origin,
    )


def find_home(start: Path) -> Path | None:
    """Return the nearest `.shipyard/` directory in `start` or a directory above it.

    The search does not go up into a directory named in `SHIPYARD_CEILING_DIRECTORIES`
    (absolute paths separated by `:`, as git's `GIT_CEILING_DIRECTORIES`): a `.shipyard/`
    in a shared parent such as `/tmp` is not taken for a project's own.

    Example:
        >>> find_home(Path("/work/taxi/notebooks"))  # finds /work/taxi/.shipyard
        PosixPath('/work/taxi/.shipyard')
    """
    ceilings = _ceilings()
    for directory in (start, *start.parents):
        if directory in ceilings and directory != start:
            return None
        candidate = directory / HOME_DIRNAME
        if candidate.is_dir():
            return candidate
    return None


def _ceilings() -> set[Path]:
    value = os.environ.get("SHIPYARD_CEILING_DIRECTORIES", "")
    return {Path(part).resolve() for part in value.split(os.pathsep) if os.path.isabs(part)}


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
