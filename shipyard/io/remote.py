"""Object stores through fsspec: a URL's filesystem, and their errors as `StorageError`."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from typing import TYPE_CHECKING

from shipyard.errors import StorageError
from shipyard.io.faults import remote_error

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from fsspec import AbstractFileSystem

__all__ = ["download_tree", "filesystem_of", "remote_errors", "remote_files"]


def filesystem_of(url: str) -> AbstractFileSystem:
    """Return the fsspec filesystem of `url` (imported on first use).

    Raises:
        StorageError: The package the URL's scheme needs is not installed, naming it.
    """
    from fsspec.core import url_to_fs

    try:
        fs, _ = url_to_fs(url)
    except ImportError as exc:  # fsspec names the package: "Install s3fs to access S3"
        scheme = url.partition("://")[0]
        install = 'pip install "shipyard[s3]"' if scheme in {"s3", "s3a"} else str(exc)
        raise StorageError(
            f"The artifact root {url} needs a package that is not installed ({exc}).",
            path=url,
            hint=f"Install it ({install}), or choose another --artifact-root.",
        ) from exc
    return fs


@contextlib.contextmanager
def remote_errors(root: str, action: str) -> Iterator[None]:
    """Tell an object store client's error met while `action` under `root` as a `StorageError`."""
    try:
        yield
    except StorageError:
        raise
    except Exception as exc:
        raise remote_error(exc, action=action, root=root) from exc


@contextlib.contextmanager
def remote_files(root: str, action: str) -> Iterator[AbstractFileSystem]:
    """Yield the filesystem of `root`; a client's error while `action` is a `StorageError`."""
    fs = filesystem_of(root)
    with remote_errors(root, action):
        yield fs


def download_tree(url: str, target: Path) -> None:
    """Copy the directory at `url` to the new local directory `target`, all or nothing.

    Raises:
        StorageError: There is no directory at `url`, or the store cannot be read.
    """
    partial = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex}")
    partial.mkdir(parents=True)
    try:
        with remote_files(url, f"downloading {url}") as fs:
            if not fs.isdir(url):
                raise StorageError(f"There is no directory at {url}.", path=url)
            fs.get(f"{url.rstrip('/')}/", f"{partial}/", recursive=True)
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
