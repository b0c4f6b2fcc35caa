"""Content fingerprints of files and directories."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_CHUNK_BYTES = 1 << 20
# (resolved path, size, mtime_ns) -> digest; a file that is unchanged is not hashed twice.
_file_memo: dict[tuple[str, int, int], str] = {}


def fingerprint_path(path: str | Path) -> str:
    """Return a SHA-256 fingerprint of a file's bytes, or of a directory's names and bytes.

    A directory's fingerprint covers every file below it, by relative path, so renaming or
    editing any file changes it. Hidden files (starting with '.') are ignored.

    Raises:
        FileNotFoundError: `path` does not exist.
    """
    root = Path(path)
    if root.is_file():
        return _file_digest(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such file or directory")
    digest = hashlib.sha256()
    for relative in _walk_files(root):
        digest.update(relative.encode("utf-8"))
        digest.update(b"\0")
        digest.update(_file_digest(root / relative).encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def _walk_files(root: Path) -> list[str]:
    files = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if not name.startswith(".")]
        rel_dir = os.path.relpath(directory, root)
        for name in filenames:
            if not name.startswith("."):
                files.append(name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/"))
    return sorted(files)


def _file_digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    cached = _file_memo.get(key)
    if cached is not None:
        return cached
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    _file_memo[key] = digest
    return digest
