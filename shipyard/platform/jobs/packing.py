"""Packing a working directory into the tar.gz a job runs in (`shipyard jobs submit`).

The files are those git would commit: in a git checkout, `git ls-files -co
--exclude-standard` (tracked files and untracked ones no ignore rule covers); elsewhere, every
file but those the directory's `.gitignore` names (a simple reader: one pattern a line,
`#` comments, a trailing `/` for directories, `*`, `?` and `[...]` globs; a pattern with a
`/` is matched against the path from the directory, one without against each name; no
negation). `.git/` and `.shipyard/` are always left
out. The archive is the same bytes for the same files (sorted, no times or owners), so an
unchanged directory uploads as the package the server already has.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import subprocess
import tarfile
from pathlib import Path, PurePosixPath
from typing import Final

from shipyard.errors import InvalidParameterError

__all__ = ["ALWAYS_LEFT_OUT", "list_files", "pack_directory"]

ALWAYS_LEFT_OUT: Final = (".git", ".shipyard")


def list_files(root: Path) -> list[str]:
    """The files of `root` to pack, as sorted POSIX paths relative to it."""
    listed = _git_files(root)
    if listed is None:
        listed = _walk(root, _read_gitignore(root / ".gitignore"))
    kept = {
        name
        for name in listed
        if PurePosixPath(name).parts[0] not in ALWAYS_LEFT_OUT and (root / name).is_file()
    }
    return sorted(kept)


def pack_directory(root: Path, *, max_bytes: int) -> bytes:
    """Return the tar.gz of the files `list_files` finds in `root`.

    Raises:
        InvalidParameterError: The archive would be larger than `max_bytes` (naming the
            largest files) or a file is a link leading out of `root`.
    """
    names = list_files(root)
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name in names:
            path = root / name
            if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
                raise InvalidParameterError(
                    f"{path} links to {path.resolve()}, outside the directory being packed.",
                    hint="Copy the file in, or .gitignore the link.",
                )
            data = path.read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            archive.addfile(info, io.BytesIO(data))
            if buffer.tell() > max_bytes:
                raise _too_large(root, names, max_bytes)
    packed = buffer.getvalue()
    if len(packed) > max_bytes:
        raise _too_large(root, names, max_bytes)
    return packed


def _too_large(root: Path, names: list[str], max_bytes: int) -> InvalidParameterError:
    largest = sorted(names, key=lambda n: (root / n).stat().st_size, reverse=True)[:3]
    shown = ", ".join(f"{n} ({(root / n).stat().st_size:,} bytes)" for n in largest)
    return InvalidParameterError(
        f"The working directory {root} packs to over {max_bytes:,} bytes; the largest files "
        f"are {shown}.",
        hint="Add data and build outputs to .gitignore, or raise --max-package-bytes.",
    )


def _git_files(root: Path) -> list[str] | None:
    try:
        found = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=False,
        )
    except OSError:  # git is not installed
        return None
    if found.returncode != 0:  # not a checkout
        return None
    return [name for name in found.stdout.decode("utf-8").split("\0") if name]


def _read_gitignore(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith(("#", "!"))]


def _ignored(relative: PurePosixPath, patterns: list[str], *, is_dir: bool) -> bool:
    for pattern in patterns:
        if pattern.endswith("/") and not is_dir:
            continue
        bare = pattern.rstrip("/")
        if "/" in bare:  # anchored at the directory: matched against the whole path
            if fnmatch.fnmatchcase(str(relative), bare.lstrip("/")):
                return True
        elif fnmatch.fnmatchcase(relative.name, bare):
            return True
    return False


def _walk(root: Path, patterns: list[str]) -> list[str]:
    found: list[str] = []
    pending = [root]
    while pending:
        directory = pending.pop()
        for entry in directory.iterdir():
            relative = PurePosixPath(entry.relative_to(root).as_posix())
            if relative.parts[0] in ALWAYS_LEFT_OUT:
                continue
            is_dir = entry.is_dir() and not entry.is_symlink()
            if _ignored(relative, patterns, is_dir=is_dir):
                continue
            if is_dir:
                pending.append(entry)
            else:
                found.append(str(relative))
    return found
