"""Artifact storage: stage locally, publish atomically, read back from any fsspec URL.

Components always see local directories. Outputs are written to a staging directory and
only published (renamed on a local root, uploaded to a remote one) after the component
returns. The staging directory is on the artifact root's filesystem, so that publishing is
one rename: under the project's scratch directory when both are on one filesystem, else
under `ROOT/.shipyard-staging/`. Where a rename still crosses filesystems (a mount below the
root), the files are copied next to their destination and renamed there. The metadata
store's registration is the commit point: files at a URI that no live artifact names are
garbage. Operating-system errors come out as `StorageError`, naming the path and the fix.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.io.faults import storage_error
from shipyard.io.remote import filesystem_of, remote_errors

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from fsspec import AbstractFileSystem

STAGING_DIRNAME = "staging"
CHECKPOINTS_DIRNAME = "checkpoints"
CACHE_DIRNAME = "cache"
ROOT_STAGING_DIRNAME = ".shipyard-staging"  # under a local root on another filesystem


class ArtifactStorage:
    """Publishes artifact directories under `root`, a local path or an fsspec URL.

    Args:
        root: Local directory or fsspec URL (`memory://artifacts`, `s3://bucket/prefix`).
        scratch_dir: Local directory for staging and for copies of remote artifacts.

    Example:
        >>> storage = ArtifactStorage("/tmp/artifacts", scratch_dir=Path("/tmp/.shipyard"))
        >>> staging = storage.new_staging("run-1")
        >>> (staging / "data.txt").write_text("hello")
        >>> storage.publish(staging, storage.uri_for("p", "run-1", "node", "out"))
    """

    def __init__(self, root: str, *, scratch_dir: Path) -> None:
        self.root = root.rstrip("/") if "://" in root else str(Path(root).resolve())
        self.scratch_dir = scratch_dir
        self._fs: AbstractFileSystem | None = None
        self._staging_dir: Path | None = None
        self.is_local = "://" not in root or root.startswith("file://")
        if root.startswith("file://"):
            self.root = str(Path(root.removeprefix("file://")).resolve())

    @property
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem of a remote root (imported on first use)."""
        if self._fs is None:
            self._fs = filesystem_of(self.root)
        return self._fs

    def uri_for(self, pipeline: str, run_id: str, node: str, port: str) -> str:
        """Return the URI an output is published at: `root/pipeline/run/node/port`."""
        return f"{self.root}/{pipeline}/{run_id}/{node}/{port}"

    @property
    def staging_dir(self) -> Path:
        """Where outputs are staged: on the local root's filesystem, so publishing renames."""
        if self._staging_dir is None:
            scratch = self.scratch_dir / STAGING_DIRNAME
            root = Path(self.root)
            if self.is_local and _filesystem_id(root) != _filesystem_id(scratch):
                self._staging_dir = root / ROOT_STAGING_DIRNAME
            else:
                self._staging_dir = scratch
        return self._staging_dir

    def check_writable(self) -> None:
        """Check, before any node runs, that outputs can be staged and published.

        A probe file is staged and published at the root, then deleted.

        Raises:
            StorageError: The root or the staging directory cannot be written (read-only,
                full, no permission), naming the path and the fix.
        """
        probe = f".shipyard-probe-{uuid.uuid4().hex}"
        staging = self.staging_dir / probe
        uri = f"{self.root}/{probe}"
        try:
            staging.mkdir(parents=True)
            (staging / "probe").write_bytes(b"shipyard")
            if self.is_local:
                _move(staging, Path(uri))
            else:
                self._put(staging, uri)
            self.remove(uri)
        except OSError as exc:
            raise storage_error(
                exc, action="checking that the artifact root is writable", path=self.root
            ) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def new_staging(self, run_id: str) -> Path:
        """Create and return an empty staging directory for one output of a run.

        Raises:
            StorageError: The directory cannot be created (read-only, full, no permission).
        """
        path = self.staging_dir / run_id / uuid.uuid4().hex
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise storage_error(exc, action="creating a staging directory", path=str(path)) from exc
        return path

    def publish(self, staging: Path, uri: str) -> Path:
        """Move a finished staging directory to `uri`; return the local path of the result.

        On a local root this is one atomic rename (a copy next to `uri`, then a rename, where
        the two are on different filesystems). On a remote root the files are uploaded and
        the staging directory becomes the local copy of the artifact.

        Raises:
            StorageError: The files cannot be moved or uploaded (disk full, read-only root,
                no permission); nothing is left at `uri`.
        """
        try:
            if self.is_local:
                return _move(staging, Path(uri))
        except OSError as exc:
            raise storage_error(exc, action=f"publishing {uri}", path=self.root) from exc
        with self._remote(f"publishing {uri}"):
            self._put(staging, uri)
        try:
            local = self._local_copy_path(uri)
            local.parent.mkdir(parents=True, exist_ok=True)
            if local.exists():
                shutil.rmtree(local)
            os.replace(staging, local)
        except OSError as exc:
            raise storage_error(exc, action=f"publishing {uri}", path=self.root) from exc
        return local

    def _remote(self, action: str) -> AbstractContextManager[None]:
        """Tell an object store client's error met while `action` as a `StorageError`."""
        return remote_errors(self.root, action)

    def _put(self, staging: Path, uri: str) -> None:
        """Upload a staging directory to a remote `uri`; a failed upload leaves nothing."""
        try:
            self.fs.put(f"{staging}/", uri, recursive=True)
        except BaseException:
            if self.fs.exists(uri):
                self.fs.rm(uri, recursive=True)
            raise

    def localize(self, uri: str) -> Path:
        """Return a local directory holding the artifact at `uri`, downloading it if remote."""
        if self.is_local:
            return Path(uri)
        local = self._local_copy_path(uri)
        if not local.exists():
            partial = local.with_name(f"{local.name}.partial-{uuid.uuid4().hex}")
            partial.mkdir(parents=True)
            try:
                with self._remote(f"downloading {uri}"):
                    if self.fs.isdir(uri):
                        self.fs.get(f"{uri}/", f"{partial}/", recursive=True)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
            os.replace(partial, local)
        return local

    def exists(self, uri: str) -> bool:
        """Return whether anything is published at `uri`."""
        if self.is_local:
            return Path(uri).is_dir()
        with self._remote(f"looking for {uri}"):
            return bool(self.fs.exists(uri))

    def remove(self, uri: str) -> None:
        """Delete what is published at `uri` and any local copy of it."""
        if self.is_local:
            shutil.rmtree(uri, ignore_errors=True)
            return
        with self._remote(f"removing {uri}"):
            if self.fs.exists(uri):
                self.fs.rm(uri, recursive=True)
        shutil.rmtree(self._local_copy_path(uri), ignore_errors=True)

    def discard(self, staging: Path) -> None:
        """Delete a staging directory that will not be published."""
        shutil.rmtree(staging, ignore_errors=True)

    def published_uris(self) -> list[str]:
        """Return every `root/pipeline/run/node/port` directory that exists."""
        if self.is_local:
            root = Path(self.root)
            if not root.is_dir():
                return []
            return sorted(
                str(path)
                for path in root.glob("*/*/*/*")
                if path.is_dir() and path.relative_to(root).parts[0] != ROOT_STAGING_DIRNAME
            )
        stripped_root = self.fs._strip_protocol(self.root)
        with self._remote(f"listing the artifacts under {self.root}"):
            return sorted(
                self.root + path[len(stripped_root) :]
                for path in self.fs.glob(f"{stripped_root}/*/*/*/*")
                if self.fs.isdir(path)
            )

    def staging_runs(self) -> list[str]:
        """Return the ids of runs that have staging directories left."""
        return sorted({path.name for area in self._staging_areas() for path in area.iterdir()})

    def checkpoint_dir(self, cache_key: str) -> Path:
        """Return the checkpoint directory of the executions with this cache key.

        It outlives failed and killed executions, so the next execution with the same code,
        parameters and inputs resumes from it; `discard_checkpoints` deletes it.
        """
        return self.scratch_dir / CHECKPOINTS_DIRNAME / cache_key[:40]

    def discard_checkpoints(self, cache_key: str) -> None:
        """Delete the checkpoints of a completed execution."""
        shutil.rmtree(self.checkpoint_dir(cache_key), ignore_errors=True)

    def discard_run_staging(self, run_id: str) -> None:
        """Delete every staging directory of a run."""
        for area in self._staging_areas():
            shutil.rmtree(area / run_id, ignore_errors=True)

    def local_path(self, uri: str) -> Path:
        """Return where the artifact at `uri` is, or will be once localized, on this machine."""
        return Path(uri) if self.is_local else self._local_copy_path(uri)

    def _staging_areas(self) -> list[Path]:
        """Both places staging directories may be, whichever exist."""
        areas = [self.scratch_dir / STAGING_DIRNAME]
        if self.is_local:
            areas.append(Path(self.root) / ROOT_STAGING_DIRNAME)
        return [area for area in areas if area.is_dir()]

    def _local_copy_path(self, uri: str) -> Path:
        digest = hashlib.sha256(uri.encode("utf-8")).hexdigest()[:32]
        return self.scratch_dir / CACHE_DIRNAME / digest


def _filesystem_id(path: Path) -> int:
    """The id of the filesystem (`st_dev`) that holds `path`, or would hold it once made."""
    for candidate in (path, *path.parents):
        try:
            return candidate.stat().st_dev
        except FileNotFoundError:
            continue
    return -1


def _move(staging: Path, target: Path) -> Path:
    """Rename `staging` to `target`; across filesystems, copy next to `target`, then rename.

    A copy that fails (a full disk) is removed, so `target` is either whole or absent.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staging, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        partial = target.with_name(f".{target.name}.publish-{uuid.uuid4().hex}")
        try:
            _copy_tree(staging, partial)
            os.replace(partial, target)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _copy_tree(source: Path, target: Path) -> None:
    """Copy a directory, stopping at the first error with the system's own (`ENOSPC`).

    `shutil.copytree` goes on after an error and raises them all together without an errno,
    which would hide a full disk; links are copied as links.
    """
    for folder, dirs, files in os.walk(source):
        here = Path(folder)
        there = target / here.relative_to(source)
        there.mkdir()
        for name in [*files, *(d for d in dirs if (here / d).is_symlink())]:
            shutil.copy2(here / name, there / name, follow_symlinks=False)
