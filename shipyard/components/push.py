"""The `push` component (TFX Pusher): copy a blessed model to `BASE/NAME/VERSION/`.

Versions are integers, 1, 2, ...: each push writes the next one and never overwrites an
existing version. The copy is written to a hidden temporary sibling (`BASE/NAME/.push-*`)
and renamed into place with `os.replace`, so a reader (a model server watching `BASE/NAME`)
sees either no new version or a complete one.

Pushers to one `BASE/NAME` take turns: each holds an exclusive `flock` on the directory
itself (no lock file; the kernel releases it if the pusher dies) while it compares the model
with the latest version and copies it. So identical models pushed at once, by concurrent runs or
threads, make one version, and each pusher names it.

The push gate: a model is copied only when its blessing (from `evaluate`) is blessed and,
when an infra blessing (from `infra_validate`) is given, that one too.

Canary: with `canary_percent`, the new version is labelled `canary` in the serving model
config (`BASE/models.yaml` by default) with that share of the unlabeled requests, beside
the `stable` version; `shipyard promote` later promotes or rolls it back
(`shipyard.serving.labels` owns those edits). A plain push to a model that config lists
labels the new version `stable`, so a config that pins versions keeps serving the newest.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import InfraBlessing, Model, ModelBlessing, PushDecision, PushedModel
from shipyard.dsl import Out, component
from shipyard.dsl.parameters import invalid_parameter
from shipyard.errors import DataError
from shipyard.io import fingerprint_path

if TYPE_CHECKING:
    from collections.abc import Iterator

_WHO = "push"
_ATTEMPTS = 100
MODEL_CONFIG = "models.yaml"
"""The serving model config a canary push writes, under the push base by default."""
logger = logging.getLogger("shipyard.components.push")


@component(writes=("base", "model_config"))
def push(
    model: Model,
    blessing: ModelBlessing,
    pushed: Out[PushedModel],
    infra_blessing: InfraBlessing | None = None,
    *,
    name: str,
    base: Path = Path("models"),
    canary_percent: float | None = None,
    model_config: Path | None = None,
) -> None:
    """Copy the model to `BASE/NAME/VERSION/` if its blessing says it is blessed.

    Args:
        model: The exported model.
        blessing: The decision of `evaluate` on this model.
        pushed: Receives where the model was written (`pushed.json`): `pushed`, `name`,
            `version` and `path` (and `label`, `canary_percent`, `model_config` when a
            model config was written); or `pushed: false` and the `reason` when not blessed.
        infra_blessing: The decision of `infra_validate` on this model, if it ran: a model
            that did not serve well is not pushed.
        name: The model's name: a directory name under `base` (no path separator, no `..`,
            not starting with a dot).
        base: The directory models are pushed under. A relative path (the default
            `models` included) is resolved against the directory of the pipeline file
            that declared the node, like every path parameter.
        canary_percent: Label the new version `canary` in the model config, with this
            share (0 to 100, not 0) of the unlabeled requests; the `stable` label stays
            on the current stable version (the newest older version when none is
            labelled). Without a version to compare with, the first push becomes stable.
        model_config: The serving model config to write (`shipyard serve --model-config`;
            YAML or JSON). Default: `base/models.yaml`. Written with a canary, and on a
            plain push when it lists the model (the new version becomes stable).

    An unblessed model is not copied and nothing is written under `base`. A model identical
    to the latest version (every file the same) is not copied again: `pushed` names that
    version. Pushes to one `base/name` take turns (a lock on that directory), so identical
    models pushed at once make one version.

    Raises:
        InvalidParameterError: `name` is empty, has a path separator or `..`, or starts
            with a dot; `canary_percent` is not in (0, 100].
        DataError: A blessing is of another model.
        ConfigError: The model config exists but is invalid, or is not YAML or JSON.

    Example:
        >>> pushed = push(
        ...     model=trained.outputs.model,
        ...     blessing=checked.outputs.blessing,
        ...     base="/srv/models",
        ...     name="penguins",
        ... )
    """
    _check_name(name)
    if canary_percent is not None and (
        isinstance(canary_percent, bool) or not 0 < canary_percent <= 100
    ):
        raise invalid_parameter(_WHO, "canary_percent", "a number in (0, 100]", canary_percent)
    refusal = _refusal(model, blessing, infra_blessing)
    if refusal is not None:
        pushed.save(PushDecision(pushed=False, reason=refusal))
        return
    directory = Path(base).expanduser().resolve() / name
    with _pushers_take_turns(directory):
        latest = _latest_version(directory)
        if latest is not None and fingerprint_path(latest) == fingerprint_path(model.path):
            # The same model again (a rerun whose evaluation changed only in its baseline,
            # or an identical run pushing at the same time).
            version, target = int(latest.name), latest
        else:
            version, target = _copy(model.path, directory)
    config = Path(model_config) if model_config is not None else directory.parent / MODEL_CONFIG
    released = _release(config.expanduser().resolve(), name, directory, version, canary_percent)
    pushed.save(PushDecision(pushed=True, name=name, version=version, path=str(target), **released))


def _refusal(
    model: Model, blessing: ModelBlessing, infra_blessing: InfraBlessing | None
) -> str | None:
    """Why the gate refuses the model (a blessing or infra blessing not blessed), or None."""
    decision = blessing.load()
    _check_blessing_is_of(model, blessing)
    if not decision.blessed:
        return decision.summary()
    if infra_blessing is not None:
        _check_blessing_is_of(model, infra_blessing)
        infra = infra_blessing.load()
        if not infra.blessed:
            return infra.summary()
    return None


def _release(
    config: Path, name: str, directory: Path, version: int, canary_percent: float | None
) -> dict[str, Any]:
    """Label the pushed version in the model config; return what to record of it.

    A version the config labels already (the same model pushed again) keeps its label:
    a rerun never promotes a canary that `shipyard promote` has not judged.
    """
    from shipyard.serving.labels import Release, find_model, make_stable, start_canary

    listed = find_model(config, name)
    current = Release() if listed is None else Release.of(listed)
    if version in (current.stable, current.canary):
        release = current
    elif canary_percent is not None:
        release = start_canary(
            config, name=name, base_path=directory, version=version, percent=canary_percent
        )
        if release.canary is None:
            logger.warning(
                "%s version %d is stable in %s: there is no other version to canary it against.",
                name,
                version,
                config,
            )
    elif listed is not None:
        release = make_stable(config, name=name, base_path=directory, version=version)
    else:
        return {}
    is_canary = release.canary == version
    return {
        "label": "canary" if is_canary else "stable",
        "canary_percent": release.percent if is_canary else None,
        "model_config": str(config),
    }


def _check_blessing_is_of(model: Model, blessing: ModelBlessing | InfraBlessing) -> None:
    """Refuse a blessing made for another model.

    A blessing of a model with the same content (the same fingerprint: a training that ran
    again and made the same bytes, while the cache gave the evaluation of the first) is of
    this model too.
    """
    blessed_id = blessing.properties.get("model_id")
    if blessed_id is None or model.id is None or blessed_id == model.id:
        return
    blessed_content = blessing.properties.get("model_fingerprint")
    if blessed_content is not None and blessed_content == model.fingerprint:
        return
    raise DataError(
        f"the blessing {blessing.uri} is of the model {blessed_id}, not of {model.uri} "
        f"(id {model.id}); pass the blessing evaluate made for this model."
    )


def _check_name(name: str) -> None:
    separators = {"/", "\\", os.sep, *(os.altsep or "")}
    if (
        not name
        or any(sep in name for sep in separators)
        or ".." in name
        or name.startswith(".")
        or name != name.strip()
    ):
        raise invalid_parameter(
            _WHO,
            "name",
            "a directory name (no path separator, no '..', not starting with a dot)",
            name,
        )


@contextlib.contextmanager
def _pushers_take_turns(directory: Path) -> Iterator[None]:
    """Hold the exclusive push lock of a model directory (created if needed)."""
    import fcntl  # POSIX: Shipyard runs on Linux and macOS

    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def next_version(directory: Path) -> int:
    """Return the version after the highest integer-named subdirectory of `directory`."""
    if not directory.is_dir():
        return 1
    versions = [int(p.name) for p in directory.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(versions, default=0) + 1


def _latest_version(directory: Path) -> Path | None:
    version = next_version(directory) - 1
    return directory / str(version) if version else None


def _copy(source: Path, directory: Path) -> tuple[int, Path]:
    """Copy `source` to `directory/VERSION` atomically; return the version and its path."""
    directory.mkdir(parents=True, exist_ok=True)
    staging = directory / f".push-{uuid.uuid4().hex}"
    shutil.copytree(source, staging)
    try:
        for _ in range(_ATTEMPTS):
            version = next_version(directory)
            target = directory / str(version)
            if target.exists():  # created meanwhile by another pusher
                continue
            try:
                os.replace(staging, target)
            except OSError:  # a non-empty directory appeared at `target`: try the next one
                continue
            return version, target
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    raise DataError(f"could not find a free version under {directory} after {_ATTEMPTS} tries.")
