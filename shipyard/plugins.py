"""Entry-point discovery: the API for plugin authors.

Groups, each read by the code that opens its backends:

- `shipyard.engines`: `Engine` classes, by name (`shipyard.engines.open_engine`).
- `shipyard.stores`: `MetadataStore` classes, by URL scheme: `sqlite`, `postgresql`
  (`shipyard.store.open_store`); the class is called with the URL.
- `shipyard.artifact_types`: `Artifact` subclasses, by type name
  (`shipyard.artifacts.artifact_type`); check them with `shipyard.testing.check_artifact_type`.

A backend is imported only when first used. The built-in names (`threads`, `processes`,
`ray`; `sqlite`, `postgresql`) always mean Shipyard's own backends: a plugin adds names, it
never replaces one, and a built-in resolves without reading the installed packages'
metadata (importing `importlib.metadata` and scanning takes 20-35 ms at every command).

Example:
    ```toml
    [project.entry-points."shipyard.stores"]
    mysql = "my_package.store:MySqlStore"
    ```
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from shipyard.errors import NotFoundError, PluginNotInstalled

GROUPS = ("shipyard.engines", "shipyard.stores", "shipyard.artifact_types")

# Built-in backends: they resolve even when Shipyard runs from a source tree that was not
# installed, and an installed entry point of the same name is ignored.
BUILTIN: dict[str, dict[str, str]] = {
    "shipyard.engines": {
        "threads": "shipyard.engines.threads:ThreadEngine",
        "processes": "shipyard.engines.processes:ProcessEngine",
        "ray": "shipyard.engines.ray:RayEngine",
    },
    "shipyard.stores": {
        "sqlite": "shipyard.store.sql:SqlStore",
        "postgresql": "shipyard.store.sql:SqlStore",
    },
}

# Extras that a backend needs, for the error that names the install command.
EXTRAS: dict[tuple[str, str], str] = {
    ("shipyard.engines", "ray"): "ray",
    ("shipyard.stores", "postgresql"): "postgres",
}


def available(group: str) -> dict[str, str]:
    """Return `{name: "module:attr"}` of every backend registered in `group`."""
    return dict(_scan(group))


@cache
def _scan(group: str) -> tuple[tuple[str, str], ...]:
    found = {ep.name: ep.value for ep in _installed().select(group=group)}
    found.update(BUILTIN.get(group, {}))
    return tuple(found.items())


@cache
def _installed() -> Any:
    """Read the installed entry points of every group once per process: each scan reads
    every installed distribution's metadata, milliseconds in a large environment."""
    from importlib.metadata import entry_points

    return entry_points()


def load_entry_point(group: str, name: str, *, missing_ok: bool = False) -> Any:
    """Import and return the object registered as `name` in `group`.

    Raises:
        NotFoundError: Nothing is registered under that name (unless `missing_ok`).
        PluginNotInstalled: It is registered but its optional dependencies are missing.
    """
    target = BUILTIN.get(group, {}).get(name) or available(group).get(name)
    if target is None:
        if missing_ok:
            return None
        known = ", ".join(sorted(available(group))) or "none"
        raise NotFoundError(f"No {group} backend named {name!r}; known: {known}.")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        extra = EXTRAS.get((group, name), name)
        raise PluginNotInstalled(
            f"The {name!r} backend of {group} needs packages that are not installed "
            f'({exc.name or exc}). Install them with: pip install "shipyard[{extra}]"'
        ) from exc
    return getattr(module, attr) if attr else module
