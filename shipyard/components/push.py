"""The `push` component (TFX Pusher): copy a blessed model to `BASE/NAME/VERSION/`.

Versions are integers, 1, 2, ...: each push writes the next one and never overwrites an
existing version. The copy is written to a hidden temporary sibling (`BASE/NAME/.push-*`)
and renamed into place with `os.replace`, so a reader (a model server watching `BASE/NAME`)
sees either no new version or a complete one.

Pushers to one `BASE/NAME` take turns: each holds an exclusive `flock` on the directory
itself (no lock file; the kernel releases it if the pusher dies) while it compares the model
with the latest version and copies it. So identical models pushed at once, by concurrent runs or
threads, make one version, and each pusher names it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.artifacts import Model, ModelBlessing, PushDecision, PushedModel
from shipyard.dsl import Out, component
from shipyard.dsl.parameters import invalid_parameter
from shipyard.errors import DataError
from shipyard.io import fingerprint_path

if TYPE_CHECKING:
    from collections.abc import Iterator

_WHO = "push"
_ATTEMPTS = 100


@component(writes=("base",))
def push(
    model: Model,
    blessing: ModelBlessing,
    pushed: Out[PushedModel],
    *,
    name: str,
    base: Path = Path("models"),
) -> None:
    """Copy the model to `BASE/NAME/VERSION/` if its blessing says it is blessed.

    Args:
        model: The exported model.
        blessing: The decision of `evaluate` on this model.
        pushed: Receives where the model was written (`pushed.json`): `pushed`, `name`,
            `version` and `path`; or `pushed: false` and the `reason` when not blessed.
        name: The model's name: a directory name under `base` (no path separator, no `..`,
            not starting with a dot).
        base: The directory models are pushed under. A relative path (the default
            `models` included) is resolved against the directory of the pipeline file
            that declared the node, like every path parameter.

    An unblessed model is not copied and nothing is written under `base`. A model identical
    to the latest version (every file the same) is not copied again: `pushed` names that
    version. Pushes to one `base/name` take turns (a lock on that directory), so identical
    models pushed at once make one version.

    Raises:
        InvalidParameterError: `name` is empty, has a path separator or `..`, or starts
            with a dot.
        DataError: The blessing is of another model.

    Example:
        >>> pushed = push(
        ...     model=trained.outputs.model,
        ...     blessing=checked.outputs.blessing,
        ...     base="/srv/models",
        ...     name="penguins",
        ... )
    """
    _check_name(name)
    decision = blessing.load()
    _check_blessing_is_of(model, blessing)
    if not decision.blessed:
        pushed.save(PushDecision(pushed=False, reason=decision.summary()))
        return
    directory = Path(base).expanduser().resolve() / name
    with _pushers_take_turns(directory):
        latest = _latest_version(directory)
        if latest is not None and fingerprint_path(latest) == fingerprint_path(model.path):
            # The same model again (a rerun whose evaluation changed only in its baseline,
            # or an identical run pushing at the same time).
            pushed.save(
                PushDecision(pushed=True, name=name, version=int(latest.name), path=str(latest))
            )
            return
        version, target = _copy(model.path, directory)
    pushed.save(PushDecision(pushed=True, name=name, version=version, path=str(target)))


def _check_blessing_is_of(model: Model, blessing: ModelBlessing) -> None:
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
