"""Artifact storage: stage locally, publish atomically, read back from any fsspec URL.

Components always see local directories. Outputs are written to a staging directory under
the project's scratch directory and only published (renamed on a local root, uploaded to a
remote one) after the component returns. The metadata store's registration is the commit
point: files at a URI that no live artifact names are garbage.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

STAGING_DIRNAME = "staging"
CHECKPOINTS_DIRNAME = "checkpoints"
CACHE_DIRNAME = "cache"


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
        self.is_local = "://" not in root or root.startswith("file://")
        if root.startswith("file://"):
            self.root = str(Path(root.removeprefix("file://")).resolve())

    @property
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem of a remote root (imported on first use)."""
        if self._fs is None:
            from fsspec.core import url_to_fs

            self._fs, _ = url_to_fs(self.root)
        return self._fs

    def uri_for(self, pipeline: str, run_id: str, node: str, port: str) -> str:
        """Return the URI an output is published at: `root/pipeline/run/node/port`."""
        return f"{self.root}/{pipeline}/{run_id}/{node}/{port}"

    def new_staging(self, run_id: str) -> Path:
        """Create and return an empty staging directory for one output of a run."""
        path = self.scratch_dir / STAGING_DIRNAME / run_id / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def publish(self, staging: Path, uri: str) -> Path:
        """Move a finished staging directory to `uri`; return the local path of the result.

        On a local root this is one atomic rename. On a remote root the files are uploaded and
        the staging directory becomes the local copy of the artifact.
        """
        if self.is_local:
            target = Path(uri)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging, target)
            return target
        self.fs.put(f"{staging}/", uri, recursive=True)
        local = self._local_copy_path(uri)
        local.parent.mkdir(parents=True, exist_ok=True)
        if local.exists():
            shutil.rmtree(local)
        os.replace(staging, local)
        return local

    def localize(self, uri: str) -> Path:
        """Return a local directory holding the artifact at `uri`, downloading it if remote."""
        if self.is_local:
            return Path(uri)
        local = self._local_copy_path(uri)
        if not local.exists():
            partial = local.with_name(f"{local.name}.partial-{uuid.uuid4().hex}")
            partial.mkdir(parents=True)
            if self.fs.isdir(uri):
                self.fs.get(f"{uri}/", f"{partial}/", recursive=True)
            os.replace(partial, local)
        return local

    def exists(self, uri: str) -> bool:
        """Return whether anything is published at `uri`."""
        return Path(uri).is_dir() if self.is_local else bool(self.fs.exists(uri))

    def remove(self, uri: str) -> None:
        """Delete what is published at `uri` and any local copy of it."""
        if self.is_local:
            shutil.rmtree(uri, ignore_errors=True)
            return
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
            return sorted(str(path) for path in root.glob("*/*/*/*") if path.is_dir())
        stripped_root = self.fs._strip_protocol(self.root)
        return sorted(
            self.root + path[len(stripped_root) :]
            for path in self.fs.glob(f"{stripped_root}/*/*/*/*")
            if self.fs.isdir(path)
        )

    def staging_runs(self) -> list[str]:
        """Return the ids of runs that have staging directories left."""
        staging = self.scratch_dir / STAGING_DIRNAME
        return sorted(path.name for path in staging.iterdir()) if staging.is_dir() else []

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
        shutil.rmtree(self.scratch_dir / STAGING_DIRNAME / run_id, ignore_errors=True)

    def local_path(self, uri: str) -> Path:
        """Return where the artifact at `uri` is, or will be once localized, on this machine."""
        return Path(uri) if self.is_local else self._local_copy_path(uri)

    def _local_copy_path(self, uri: str) -> Path:
        digest = hashlib.sha256(uri.encode("utf-8")).hexdigest()[:32]
        return self.scratch_dir / CACHE_DIRNAME / digest
