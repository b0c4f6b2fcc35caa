"""Writing a small text file atomically: a reader sees the old file or the new, never half."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` (its folder made if missing) through a hidden file renamed over it.

    The new file is flushed to disk before the rename, so a crash leaves the old file or the
    new one whole; the hidden file is removed when writing fails.

    Raises:
        OSError: The file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with staging.open("w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
