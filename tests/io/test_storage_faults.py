"""Artifact storage on real second filesystems: another filesystem, a full disk, read-only."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from shipyard.errors import PlatformError, StorageError
from shipyard.io import ArtifactStorage
from shipyard.io.faults import storage_error
from shipyard.io.storage import ROOT_STAGING_DIRNAME
from tests.mounts import tmpfs


def _stage(storage: ArtifactStorage, run_id: str, size_bytes: int = 5) -> Path:
    staging = storage.new_staging(run_id)
    (staging / "sub").mkdir()
    (staging / "sub" / "blob.bin").write_bytes(b"x" * size_bytes)
    return staging


def test_a_root_on_another_filesystem_is_staged_there_and_published_by_rename(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "mnt") as mount:
        root = mount / "artifacts"
        assert os.stat(mount).st_dev != os.stat(tmp_path).st_dev
        storage = ArtifactStorage(str(root), scratch_dir=tmp_path / ".shipyard")
        storage.check_writable()
        staging = _stage(storage, "run1")
        assert staging.is_relative_to(root / ROOT_STAGING_DIRNAME)
        inode = (staging / "sub" / "blob.bin").stat().st_ino
        uri = storage.uri_for("pipe", "run1", "node", "out")
        published = storage.publish(staging, uri)
        assert (published / "sub" / "blob.bin").stat().st_ino == inode  # renamed, not copied
        assert storage.published_uris() == [uri]  # the staging area is not an artifact
        assert storage.staging_runs() == ["run1"]
        storage.discard_run_staging("run1")
        assert storage.staging_runs() == []
        assert sorted(p.name for p in root.iterdir()) == [ROOT_STAGING_DIRNAME, "pipe"]


def test_a_mount_below_the_root_is_published_by_copy_then_rename(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    storage = ArtifactStorage(str(root), scratch_dir=tmp_path / ".shipyard")
    with tmpfs(root / "pipe"):
        staging = _stage(storage, "run1")
        assert staging.is_relative_to(tmp_path / ".shipyard")
        uri = storage.uri_for("pipe", "run1", "node", "out")
        published = storage.publish(staging, uri)
        assert (published / "sub" / "blob.bin").read_bytes() == b"x" * 5
        assert not staging.exists()
        assert sorted(p.name for p in published.parent.iterdir()) == ["out"]


def test_a_full_disk_while_publishing_leaves_nothing_and_names_the_root(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    storage = ArtifactStorage(str(root), scratch_dir=tmp_path / ".shipyard")
    with tmpfs(root / "pipe", size="64k"):
        staging = _stage(storage, "run1", size_bytes=300_000)
        uri = storage.uri_for("pipe", "run1", "node", "out")
        with pytest.raises(StorageError) as caught:
            storage.publish(staging, uri)
        assert caught.value.__cause__ is not None
        assert getattr(caught.value.__cause__, "errno", None) == errno.ENOSPC
        message = str(caught.value)
        assert f"publishing {uri}" in message and "(ENOSPC)" in message
        assert f"df -h {storage.root}" in message
        assert not storage.exists(uri)
        left = [path.name for path in (root / "pipe").rglob("*")]
        assert left == ["run1", "node"]  # the partial copy was removed
        assert staging.is_dir()  # still there for the runner to discard


def test_a_read_only_root_fails_the_check_before_anything_runs(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", read_only=True) as mount:
        storage = ArtifactStorage(str(mount / "artifacts"), scratch_dir=tmp_path / ".shipyard")
        with pytest.raises(StorageError) as caught:
            storage.check_writable()
        assert isinstance(caught.value, PlatformError)
        assert caught.value.path == storage.root
        assert "(EROFS)" in str(caught.value)
        assert "read-only filesystem" in str(caught.value)
        assert "--artifact-root" in str(caught.value)
        with pytest.raises(StorageError, match="creating a staging directory"):
            storage.new_staging("run1")


def test_the_check_leaves_no_probe_behind(tmp_path: Path) -> None:
    storage = ArtifactStorage(str(tmp_path / "art"), scratch_dir=tmp_path / ".shipyard")
    storage.check_writable()
    storage.check_writable()
    assert list((tmp_path / "art").iterdir()) == []
    assert storage.staging_runs() == []


def test_a_memory_root_is_checked_staged_locally_and_uploaded(tmp_path: Path) -> None:
    storage = ArtifactStorage("memory://faults-root", scratch_dir=tmp_path / ".shipyard")
    storage.check_writable()
    staging = _stage(storage, "run1")
    assert staging.is_relative_to(tmp_path / ".shipyard")
    uri = storage.uri_for("pipe", "run1", "node", "out")
    storage.publish(staging, uri)
    assert storage.published_uris() == [uri]
    assert storage.fs.cat_file(f"{uri}/sub/blob.bin") == b"x" * 5
    storage.remove(uri)
    assert not storage.exists(uri)
    assert not [path for path in storage.fs.find("memory://faults-root") if "probe" in path]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "is full: free space there (df -h /data/art)"),
        (errno.EROFS, "is on a read-only filesystem: remount it read-write"),
        (errno.EACCES, "This user may not write to /data/art: fix its permissions"),
        (errno.EIO, "Check that /data/art exists and is a writable directory"),
    ],
)
def test_each_fault_names_the_path_and_its_fix(code: int, words: str) -> None:
    exc = OSError(code, os.strerror(code), "/data/art/p/r/n/o/file")
    error = storage_error(exc, action="publishing x", path="/data/art")
    assert str(error).startswith(
        f"Shipyard failed publishing x: {os.strerror(code)} ({errno.errorcode[code]}) "
        "at /data/art/p/r/n/o/file."
    )
    assert words in str(error)
    assert error.path == "/data/art"
    assert error.headline == "Artifact storage error"
