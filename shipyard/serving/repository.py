"""The version directories of a model under its base path, as TensorFlow Serving reads them.

A base path (`BASE/NAME`, where `push` writes) holds one directory per version, named by a
non-negative integer without leading zeros (`1`, `2`, ...). Anything else is ignored: files,
hidden staging directories (`.push-*`), `001`. Nothing resolved here may leave the base
path: a version directory or model file that is a link to elsewhere is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from shipyard.errors import DataError, NotFoundError

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
