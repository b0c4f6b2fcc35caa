"""The version directories of a model under its base path, as TensorFlow Serving reads them.

A base path (`BASE/NAME`, where `push` writes) holds one directory per version, named by a
non-negative integer without leading zeros (`1`, `2`, ...). Anything else is ignored: files,
hidden staging directories (`.push-*`), `001`. Nothing resolved here may leave the base
path: a version directory or model file that is a link to elsewhere is refused.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import DataError, NotFoundError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_VERSION_NAME = re.compile(r"0|[1-9][0-9]{0,17}")


def scan_versions(base_path: Path) -> dict[int, Path]:
    """Return the version directories under `base_path`, by version.

    A missing or unreadable base path has no versions (the server keeps polling it).
    """
    try:
        entries = list(os.scandir(base_path))
    except OSError:
        return {}
    return {
        int(entry.name): Path(entry.path)
        for entry in entries
        if _VERSION_NAME.fullmatch(entry.name) and entry.is_dir()
    }


def model_file(base_path: Path, version_dir: Path, filename: str) -> Path:
    """Return `version_dir/filename`, resolved, after checking it stays under `base_path`.

    Raises:
        NotFoundError: The file does not exist.
        DataError: The file or its directory resolves outside the base path.
    """
    root = base_path.resolve()
    path = (version_dir / filename).resolve()
    if not path.is_relative_to(root):
        raise DataError(
            f"{version_dir.name}/{filename} resolves outside the base path {root}; "
            f"links out of the model repository are not served."
        )
    if not path.is_file():
        raise NotFoundError(f"version {version_dir.name} has no {filename}.")
    return path


def fingerprint(version_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Return the names, sizes and modification times of the files of a version directory.

    A version that failed to load is tried again when its fingerprint changes.
    """
    found: list[tuple[str, int, int]] = []
    for root, _dirs, files in os.walk(version_dir):
        for name in files:
            try:
                stat = os.stat(os.path.join(root, name))
            except OSError:
                continue
            found.append((os.path.join(root, name), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


def missing_versions(base_path: Path) -> str | None:
    """Say why `base_path` has nothing to serve yet; None when it holds a version directory.

    Example:
        >>> missing_versions(Path("models/penguins"))
        'models/penguins does not exist'
    """
    if not base_path.exists():
        return f"{base_path} does not exist"
    if not base_path.is_dir():
        return f"{base_path} is not a directory"
    if not scan_versions(base_path):
        return f"{base_path} holds no version directory (1, 2, ...)"
    return None


def wait_for_versions(
    base_paths: Mapping[str, Path],
    *,
    timeout_s: float | None,
    poll_s: float = 0.5,
    on_wait: Callable[[str, str], None] | None = None,
) -> None:
    """Return once every base path holds a version directory (as `push` writes them).

    Args:
        base_paths: The base path of each model, by model name.
        timeout_s: How long to wait; None waits until interrupted.
        poll_s: Seconds between scans.
        on_wait: Called once per model still missing, with its name and why, before waiting.

    Raises:
        NotFoundError: A version is still missing after `timeout_s` seconds.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    told: set[str] = set()
    while True:
        missing = {
            name: problem
            for name, path in base_paths.items()
            if (problem := missing_versions(path)) is not None
        }
        if not missing:
            return
        for name, problem in missing.items():
            if on_wait is not None and name not in told:
                on_wait(name, problem)
                told.add(name)
        if deadline is not None and time.monotonic() >= deadline:
            listed = "; ".join(f"model {name!r}: {problem}" for name, problem in missing.items())
            raise NotFoundError(
                f"No model version appeared within {timeout_s:g} s (--wait-timeout-s): {listed}.",
                hint="Check that the pipeline pushes to this directory (push(base=...)), or "
                "wait longer.",
            )
        left_s = poll_s if deadline is None else deadline - time.monotonic()
        time.sleep(max(0.0, min(poll_s, left_s)))
