"""Tell the platform's faults apart from the user's component failing.

A node fails for one of two reasons: its component raised (`ComponentFailed`, with the
user's traceback), or the platform could not do its part (`PlatformError`: publishing the
outputs, a full disk, a read-only artifact root). A component that meets a full disk or a
read-only mount while writing its outputs raised, but the fault is the platform's: it is
reported as a `StorageError` naming the path and the fix, with the component's traceback
after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.errors import ComponentFailed, PlatformError, StorageError
from shipyard.io.faults import is_disk_fault, storage_error

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["NodeError", "error_text", "platform_fault"]

NodeError = ComponentFailed | PlatformError


def platform_fault(error: NodeError, *, node: str, staging_dir: Path) -> NodeError:
    """Return the error to report for a failed node: a disk fault becomes a `StorageError`.

    Args:
        error: Why the node failed.
        node: The node's name.
        staging_dir: Where the node's outputs were staged (whose disk is named in the fix).
    """
    cause = error.__cause__
    if not isinstance(error, ComponentFailed) or not isinstance(cause, OSError):
        return error
    if not is_disk_fault(cause):
        return error
    fault = storage_error(
        cause, action=f"while node {node!r} wrote its outputs", path=str(staging_dir)
    )
    fault.__cause__ = error
    return fault


def error_text(error: NodeError) -> str:
    """Return what the store records as a failed execution's error.

    A component's failure is its traceback; a platform fault is its headline, message and
    fix, then the component's traceback if the component met it.
    """
    if isinstance(error, ComponentFailed):
        return error.user_traceback
    text = f"{error.headline}: {error}\n"
    cause = error.__cause__
    if isinstance(error, StorageError) and isinstance(cause, ComponentFailed):
        text += f"\nThe component's traceback:\n{cause.user_traceback}"
    return text
