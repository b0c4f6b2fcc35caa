"""Uploaded working directories: tar.gz archives kept by their sha256 and unpacked safely.

A package is checked when it is uploaded, so the client hears what is wrong with it at once,
and again when a worker unpacks it: it must be a gzip-compressed tar archive of at most
`max_bytes` (and `MAX_UNPACKED_RATIO` times that once unpacked), whose members are regular
files and directories under the archive's root, or links to such members. Absolute paths,
`..`, links leading out of the root, devices and FIFOs are refused, naming the member.
Unpacking then goes through `tarfile`'s "data" filter, which refuses the same things again
and drops modes such as set-uid.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import tarfile
import tempfile
from pathlib import Path
from typing import Final

from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.io.remote import remote_files
from shipyard.platform.jobs.spaces import is_url

__all__ = [
    "DEFAULT_MAX_PACKAGE_BYTES",
    "MAX_UNPACKED_RATIO",
    "PackageRejected",
    "PackageStore",
    "check_archive",
]

DEFAULT_MAX_PACKAGE_BYTES: Final = 100 * 1024 * 1024
MAX_UNPACKED_RATIO: Final = 10
_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")


class PackageRejected(InvalidParameterError):
    """An uploaded package is too large, not a tar.gz, or holds a member it may not."""

    headline = "Package rejected"

    def __init__(self, message: str, *, hint: str | None = None, too_large: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.too_large = too_large


def check_archive(data: bytes, *, max_bytes: int = DEFAULT_MAX_PACKAGE_BYTES) -> None:
    """Check that `data` is a package that may be unpacked (see the module's docstring).

    Raises:
        PackageRejected: Naming the limit or the member at fault.
    """
    if len(data) > max_bytes:
        raise PackageRejected(
            f"The package is {len(data):,} bytes, over the server's limit of {max_bytes:,}.",
            hint="Leave data and build outputs out (.gitignore them), or raise the server's "
            "--max-package-bytes.",
            too_large=True,
        )
    unpacked = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                _check_member(member)
                unpacked += member.size
                if unpacked > max_bytes * MAX_UNPACKED_RATIO:
                    raise PackageRejected(
                        f"The package unpacks to over {max_bytes * MAX_UNPACKED_RATIO:,} bytes "
                        f"(at member {member.name!r})."
                    )
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise PackageRejected(f"The package is not a readable tar.gz archive: {exc}.") from exc


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise PackageRejected(f"The package's member {name!r} has an absolute path.")
    if ".." in name.split("/"):
        raise PackageRejected(f"The package's member {name!r} leads out of the package (..).")
    if member.isdev():
        raise PackageRejected(f"The package's member {name!r} is a device or a FIFO.")
    if member.issym() or member.islnk():
        target = member.linkname
        where = posixpath.dirname(name) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(where, target))
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            raise PackageRejected(
                f"The package's member {name!r} links to {target!r}, outside the package."
            )
    elif not (member.isfile() or member.isdir()):
        raise PackageRejected(f"The package's member {name!r} is not a file or a directory.")


class PackageStore:
    """Packages kept under `root` as `SHA256.tar.gz`: a directory, or an object store's URL
    (`s3://bucket/prefix/packages`) so that workers on other machines read them too.

    Args:
        root: The directory (created if missing) or URL.
        max_bytes: The largest package accepted.
    """

    def __init__(self, root: str | Path, *, max_bytes: int = DEFAULT_MAX_PACKAGE_BYTES) -> None:
        self.root = str(root)
        self.max_bytes = max_bytes
        self._remote = is_url(self.root)

    def put(self, data: bytes) -> str:
        """Check and keep a package; return its sha256 (the same bytes, the same name).

        Raises:
            PackageRejected: See `check_archive`.
            StorageError: The object store cannot be written.
        """
        check_archive(data, max_bytes=self.max_bytes)
        sha = hashlib.sha256(data).hexdigest()
        if self._remote:
            with remote_files(self.root, f"keeping package {sha}") as fs:
                if not fs.exists(self._where(sha)):
                    fs.pipe_file(self._where(sha), data)  # an object appears whole or not at all
            return sha
        root = Path(self.root)
        target = root / f"{sha}.tar.gz"
        if not target.exists():
            root.mkdir(parents=True, exist_ok=True)
            fd, staging = tempfile.mkstemp(dir=root, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(staging, target)
        return sha

    def has(self, sha: str) -> bool:
        """Whether the package `sha` is kept here."""
        if not _SHA256.match(sha):
            return False
        if self._remote:
            with remote_files(self.root, f"looking for package {sha}") as fs:
                return bool(fs.exists(self._where(sha)))
        return Path(self._where(sha)).is_file()

    def unpack(self, sha: str, destination: Path) -> None:
        """Unpack the package `sha` into `destination` (created), checking it again.

        Raises:
            NotFoundError: There is no such package.
            PackageRejected: See `check_archive`.
        """
        if not self.has(sha):
            raise NotFoundError(f"There is no package {sha!r} under {self.root}.")
        if self._remote:
            with remote_files(self.root, f"reading package {sha}") as fs:
                data = bytes(fs.cat_file(self._where(sha)))
        else:
            data = Path(self._where(sha)).read_bytes()
        check_archive(data, max_bytes=max(self.max_bytes, len(data)))
        destination.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            archive.extractall(destination, filter="data")

    def _where(self, sha: str) -> str:
        return (
            f"{self.root.rstrip('/')}/{sha}.tar.gz"
            if self._remote
            else str(Path(self.root) / f"{sha}.tar.gz")
        )
