"""Which file a SQLite store is: a store whose file is deleted or replaced fails loudly.

SQLite connections keep the file they opened. Once `store.db` is deleted, or replaced by
another file (a restored backup, a `mv`), open connections go on writing to the old file, now
unreachable by name, and a run would report "complete" to a store that no longer holds it.
`StoreFile` remembers the filesystem and inode the store opened, and `check` compares them with
the file at the path before and after every write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = ["StoreFile"]

_HINT = (
    "The records written since are not in the file at that path. Stop whatever deletes or "
    "replaces the store while runs are going (a cleanup job, a restore, `rm -rf .shipyard`), "
    "then run the pipeline again."
)


@dataclass(frozen=True)
class StoreFile:
    """The SQLite file a store opened, by filesystem and inode.

    Attributes:
        path: The file's absolute path.
        filesystem: The id (`st_dev`) of the filesystem holding the file the store opened.
        inode: Its inode number.
    """

    path: Path
    filesystem: int
    inode: int

    @classmethod
    def of(cls, url: URL, masked: str) -> StoreFile | None:
        """Return the identity of the SQLite file behind `url` (None for PostgreSQL).

        Raises:
            StoreError: The file does not exist although the store was just opened.
        """
        if url.get_backend_name() != "sqlite" or url.query.get("uri") or not url.database:
            return None
        path = Path(os.path.abspath(url.database))
        try:
            stat = path.stat()
        except FileNotFoundError as exc:
            raise StoreError(
                f"The metadata store {masked} was opened, but its file {path} is gone: it was "
                "deleted while this process had the store open.",
                path=str(path),
                hint=_HINT,
            ) from exc
        return cls(path, stat.st_dev, stat.st_ino)

    def check(self, masked: str, *, after: str | None = None) -> None:
        """Raise unless the file at `path` is still the one the store opened.

        Args:
            masked: The store's URL, password masked, to name it.
            after: What was just written, when checking after a write (it was lost).

        Raises:
            StoreError: The file was deleted or replaced by another.
        """
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            what = "was deleted"
        else:
            if (stat.st_dev, stat.st_ino) == (self.filesystem, self.inode):
                return
            what = "was replaced by another file"
        lost = f" {after} went to the old file and is lost with it." if after else ""
        raise StoreError(
            f"The metadata store {masked} {what} while it was open: {self.path} is no longer "
            f"the file this process opened.{lost}",
            path=str(self.path),
            hint=_HINT,
        )
