"""Operating-system errors of artifact storage, told as `StorageError`: what, where, the fix.

A full disk, a read-only mount or a missing permission is the platform's trouble, not the
user's component failing: `storage_error` names the path, what Shipyard was doing there and
what to do, and `is_disk_fault` recognises these errors when a component meets them while
writing its outputs.
"""

from __future__ import annotations

import errno

from shipyard.errors import StorageError

__all__ = ["DISK_FULL", "NOT_WRITABLE", "is_disk_fault", "remote_error", "storage_error"]

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})

_ROOT_FLAG = "--artifact-root (or SHIPYARD_ARTIFACT_ROOT)"


def is_disk_fault(exc: BaseException) -> bool:
    """Return whether `exc` is a full disk, a read-only mount or a missing permission."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL | NOT_WRITABLE


def describe_os_error(exc: OSError) -> str:
    """Return the system's words for `exc` with its symbolic code: `No space left (ENOSPC)`."""
    code = errno.errorcode.get(exc.errno or 0)
    reason = exc.strerror or str(exc)
    return f"{reason} ({code})" if code else reason


def storage_error(exc: OSError, *, action: str, path: str) -> StorageError:
    """Wrap an `OSError` met while `action` at `path` in a `StorageError` with its fix.

    Args:
        exc: The operating system's error.
        action: What Shipyard was doing, as a phrase: "publishing output 'model' of node 'train'".
        path: The file or directory involved.

    Returns:
        The error to raise (`from exc`).
    """
    where = exc.filename if isinstance(exc.filename, str) and exc.filename else path
    message = f"Shipyard failed {action}: {describe_os_error(exc)} at {where}."
    if exc.errno in DISK_FULL:
        hint = (
            f"The disk holding {path} is full: free space there (df -h {path}) or choose "
            f"another {_ROOT_FLAG}, then run again; finished nodes are reused from the cache."
        )
    elif exc.errno == errno.EROFS:
        hint = (
            f"{path} is on a read-only filesystem: remount it read-write, or choose a "
            f"writable {_ROOT_FLAG}."
        )
    elif exc.errno in NOT_WRITABLE:
        hint = (
            f"This user may not write to {path}: fix its permissions, or choose a writable "
            f"{_ROOT_FLAG}."
        )
    elif exc.errno == errno.EXDEV:
        hint = (
            f"{path} is on another filesystem than Shipyard's staging directory; "
            f"please report this, and meanwhile put {_ROOT_FLAG} on the same filesystem."
        )
    else:
        hint = (
            f"Check that {path} exists and is a writable directory, or choose another {_ROOT_FLAG}."
        )
    return StorageError(message, path=path, hint=hint)


def remote_error(exc: Exception, *, action: str, root: str) -> StorageError:
    """Wrap an object store client's error (unreachable, denied, no bucket) in a `StorageError`.

    Args:
        exc: The client's error (botocore's, gcsfs', or an `OSError`).
        action: What Shipyard was doing, as a phrase: "publishing s3://bucket/p/run/node/out".
        root: The artifact root's URL.
    """
    if isinstance(exc, OSError) and exc.errno is not None:
        return storage_error(exc, action=action, path=root)
    reason = str(exc) or type(exc).__name__
    return StorageError(
        f"Shipyard failed {action}: {reason} ({type(exc).__name__}).",
        path=root,
        hint=(
            f"Check that the object store of {root} is reachable, that the bucket exists and "
            "that its credentials are set (for S3: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
            f"AWS_ENDPOINT_URL or ~/.aws), or choose another {_ROOT_FLAG}."
        ),
    )
