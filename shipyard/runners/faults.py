"""What the store records of a failed node: the user's traceback, or the platform's fault.

A node fails for one of two reasons: its component raised (`ComponentFailed`, with the
user's traceback), or the platform could not do its part (`PlatformError`: publishing the
outputs, a full disk, a read-only artifact root). The task tells them apart where it runs
(`shipyard.engines.task`): a component that met a full disk while writing its outputs is
reported as a `StorageError` naming the path and the fix, with the component's traceback
after it.
"""

from __future__ import annotations

from shipyard.errors import ComponentFailed, PlatformError, StorageError

__all__ = ["NodeError", "error_text"]

NodeError = ComponentFailed | PlatformError


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
