"""Real filesystems made by a test: a tmpfs mounted, sized or read-only, unmounted after.

Mounting needs root (or CAP_SYS_ADMIN); where it fails, the test is skipped with the reason
the system gave, never passed.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@contextlib.contextmanager
def tmpfs(path: Path, *, size: str = "4m", read_only: bool = False) -> Iterator[Path]:
    """Mount a new tmpfs of `size` at `path` (created) and yield it; unmount it afterwards.

    Args:
        path: The mount point.
        size: Its size, as mount takes it (`64k`, `4m`): a small one fills up.
        read_only: Remount it read-only once mounted (chmod does not stop root).
    """
    if shutil.which("mount") is None:
        pytest.skip("cannot make a second filesystem: the mount command is not installed")
    path.mkdir(parents=True, exist_ok=True)
    made = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {path} (needs root): {made.stderr.strip()}")
    try:
        if read_only:
            remount = _mount("-o", "remount,ro", str(path))
            assert remount.returncode == 0, remount.stderr
        yield path
    finally:
        _mount_command("umount", "-l", str(path))


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return _mount_command("mount", *args)


def _mount_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=30)
