"""Content fingerprints of files and directories."""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.io.fingerprints import FileIdentity, FingerprintSession

if TYPE_CHECKING:
    from shipyard.io.fingerprints import FingerprintCache

# (resolved path, identity) -> digest: a settled file unchanged since is not hashed twice
# by a process (the rules of `shipyard.io.fingerprints`).
_file_memo: dict[tuple[str, FileIdentity], str] = {}


def fingerprint_path(path: str | Path, *, cache: FingerprintCache | None = None) -> str:
    """Return a SHA-256 fingerprint of a file's bytes, or of a directory's names and bytes.

    A directory's fingerprint covers every file below it, by relative path, so renaming or
    editing any file changes it. Hidden files (starting with '.') are ignored.

    Args:
        path: A local file or directory.
        cache: Where digests are remembered across processes (`FingerprintCache`): a file
            whose size, times, inode and device are unchanged is not read again.

    Raises:
        FileNotFoundError: `path` does not exist.

    Example:
        >>> fingerprint_path("data/taxi.csv", cache=FingerprintCache(home / "fingerprints.db"))
        '9f2c…'
    """
    root = Path(path)
    with closing(cache.open() if cache is not None else FingerprintSession(None)) as session:
        if root.is_file():
            return _file_digest(root, session)
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: no such file or directory")
        digest = hashlib.sha256()
        for relative in _walk_files(root):
            digest.update(relative.encode("utf-8"))
            digest.update(b"\0")
            digest.update(_file_digest(root / relative, session).encode("ascii"))
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


def _file_digest(path: Path, session: FingerprintSession) -> str:
    resolved = str(path.resolve())
    before = FileIdentity.of(os.stat(resolved))
    known = _file_memo.get((resolved, before)) or session.lookup(resolved, before)
    if known is not None:
        _file_memo[resolved, before] = known
        return known
    with open(resolved, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        after = FileIdentity.of(os.fstat(handle.fileno()))
    session.remember(resolved, before, after, digest)
    if before == after and after.is_settled(time.time_ns()):
        _file_memo[resolved, before] = digest
    return digest
