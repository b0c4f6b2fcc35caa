"""Label edits of a model config file: a canary started, promoted or rolled back.

`push` (with a canary share), `shipyard promote` and a rollback change which versions a
model's `stable` and `canary` labels name, and the canary's share, through this module:

- a canary: `labels: {stable: S, canary: V}`, `canary: {version: V, percent: P}`,
  `version_policy: {specific: [S, V]}`, so the server loads both and splits the unlabeled
  requests;
- stable only: `labels: {stable: V}`, no canary, `version_policy: {specific: [V]}`.

Other labels, other models and the `batching` section are kept. Each edit holds an exclusive
`flock` on the file's directory while it reads and writes (so a pusher and a promoter take
turns), and writes the file atomically (`write_model_config`); a server polling the file
(`shipyard.serving.reload`) picks the change up without a restart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.errors import ConfigError
from shipyard.serving.config import (
    Canary,
    ModelConfig,
    ModelConfigFile,
    VersionPolicy,
    read_model_config,
    write_model_config,
)
from shipyard.serving.repository import scan_versions

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

STABLE = "stable"
CANARY = "canary"


@dataclass(frozen=True)
class Release:
    """Which versions of a model the labels name.

    Attributes:
        stable: The `stable` version, if labelled.
        canary: The `canary` version, if any.
        percent: The canary's share of unlabeled requests (0 without a canary).
    """

    stable: int | None = None
    canary: int | None = None
    percent: float = 0.0

    @classmethod
    def of(cls, model: ModelConfig) -> Release:
        """Read a model config's labels and canary."""
        canary = model.canary.version if model.canary is not None else model.labels.get(CANARY)
        percent = model.canary.percent if model.canary is not None else 0.0
        return cls(model.labels.get(STABLE), canary, percent)


def find_model(path: Path, name: str) -> ModelConfig | None:
    """Return the model `name` of the config file at `path`; None when either is missing.

    Raises:
        ConfigError: The file exists but is invalid.
    """
    if not path.exists():
        return None
    return next((m for m in read_model_config(path).models if m.name == name), None)


def start_canary(
    path: Path, *, name: str, base_path: Path, version: int, percent: float
) -> Release:
    """Label `version` canary with `percent` of the unlabeled requests, beside stable.

    Stable is the model's `stable` label, else the newest other version on disk. Without
    one (a first push), `version` becomes stable instead: there is nothing to compare with.

    Raises:
        ConfigError: The file is invalid, or not YAML or JSON.
    """
    with _editing(path, name) as (config, model):
        current = Release() if model is None else Release.of(model)
        stable = current.stable
        if stable is None or stable == version:
            older = [v for v in scan_versions(base_path) if v < version]
            stable = max(older, default=None) if stable is None else None
        if stable is None:
            release = Release(stable=version)
        else:
            release = Release(stable=stable, canary=version, percent=float(percent))
        _write(path, config, _entry(model, name, base_path, release))
    return release


def make_stable(path: Path, *, name: str, base_path: Path, version: int) -> Release:
    """Label `version` stable and drop any canary (a promotion, or a plain push).

    Raises:
        ConfigError: The file is invalid, or not YAML or JSON.
    """
    return set_release(path, name=name, base_path=base_path, release=Release(stable=version))


def set_release(path: Path, *, name: str, base_path: Path, release: Release) -> Release:
    """Label the versions `release` names, with its canary share, whatever was labelled before.

    Raises:
        ConfigError: The file is invalid, or not YAML or JSON.
    """
    with _editing(path, name) as (config, model):
        _write(path, config, _entry(model, name, base_path, release))
    return release


def end_canary(
    path: Path, *, name: str, promote: bool, canary: int | None = None
) -> tuple[Release, Release]:
    """Promote the canary to stable, or roll it back; return the release before and after.

    Args:
        path: The model config file.
        name: The model.
        promote: Promote (the canary becomes stable) or roll back (stable stays).
        canary: The canary version the decision was about: refuse if it changed meanwhile.

    Raises:
        ConfigError: The file or the model is missing, the model has no canary, or its
            canary is not `canary`.
    """
    with _editing(path, name) as (config, model):
        if model is None:
            raise ConfigError(f"The model config {path} lists no model {name!r}.")
        before = Release.of(model)
        if before.canary is None:
            raise ConfigError(
                f"The model {name!r} has no canary in {path} (labels: "
                f"{dict(model.labels) or 'none'}); push one with a canary share first."
            )
        if canary is not None and before.canary != canary:
            raise ConfigError(
                f"The canary of {name!r} in {path} changed from version {canary} to "
                f"{before.canary} meanwhile; decide again."
            )
        kept = before.canary if promote or before.stable is None else before.stable
        after = Release(stable=kept)
        _write(path, config, _entry(model, name, model.base_path, after))
    return before, after


@contextlib.contextmanager
def _editing(path: Path, name: str) -> Iterator[tuple[ModelConfigFile, ModelConfig | None]]:
    """Hold the directory's lock; yield the file's config (empty when new) and the model."""
    import fcntl  # POSIX: Shipyard runs on Linux and macOS

    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        config = read_model_config(path) if path.exists() else ModelConfigFile(())
        yield config, next((m for m in config.models if m.name == name), None)
    finally:
        os.close(descriptor)


def _entry(model: ModelConfig | None, name: str, base_path: Path, release: Release) -> ModelConfig:
    labels = {k: v for k, v in (model.labels if model else {}).items() if k not in (STABLE, CANARY)}
    versions = {v for v in (release.stable, release.canary) if v is not None}
    if release.stable is not None:
        labels[STABLE] = release.stable
    canary = None
    if release.canary is not None:
        labels[CANARY] = release.canary
        canary = Canary(version=release.canary, percent=float(release.percent))
    return ModelConfig(
        name=name,
        base_path=base_path.resolve(),
        version_policy=VersionPolicy(kind="specific", versions=frozenset(versions)),
        labels=labels,
        canary=canary,
    )


def _write(path: Path, config: ModelConfigFile, entry: ModelConfig) -> None:
    models = [m for m in config.models if m.name != entry.name]
    position = next((i for i, m in enumerate(config.models) if m.name == entry.name), None)
    models.insert(len(models) if position is None else position, entry)
    write_model_config(path, dataclasses.replace(config, models=tuple(models)))
