"""`shipyard run` in a real process under the platform's faults: a read-only or full artifact
root and a store deleted mid-run are reported as the platform's, with the path and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.cli.command import shipyard
from tests.mounts import tmpfs

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

PIPELINE = """
from pathlib import Path

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Artifact


@component
def blob(out: Out[Artifact], *, size_bytes: int = 10) -> None:
    (out.path / "blob.bin").write_bytes(b"x" * size_bytes)


@component
def remove_store(inp: Artifact, out: Out[Artifact]) -> None:
    Path(".shipyard/store.db").unlink()
    (out.path / "done").write_text("yes")


def blobs(size_bytes: int = 10) -> Pipeline:
    return Pipeline("blobs", nodes=[blob(size_bytes=size_bytes)])


def vanishing() -> Pipeline:
    return Pipeline("vanishing", nodes=[remove_store(inp=blob().outputs.out)])
"""


def _pipeline(folder: Path) -> str:
    (folder / "pipeline.py").write_text(PIPELINE)
    return "pipeline.py"


def test_a_root_on_another_filesystem_runs(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt") as mount:
        done = shipyard(
            tmp_path, "run", _pipeline(tmp_path), "--pipeline", "blobs",
            "--artifact-root", str(mount / "artifacts"),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "Errno 18" not in done.stderr  # EXDEV
        assert list((mount / "artifacts" / "blobs").glob("*/blob/out/blob.bin"))


def test_a_read_only_root_is_reported_before_any_node_runs(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", read_only=True) as mount:
        done = shipyard(
            tmp_path, "run", _pipeline(tmp_path), "--pipeline", "blobs",
            "--artifact-root", str(mount / "artifacts"),
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Error: Artifact storage error: Shipyard failed checking that the artifact" in (
        done.stderr
    )
    assert "read-only filesystem: remount it read-write" in done.stderr
    assert str(mount / "artifacts") in done.stderr.replace("\n", "")
    assert "Component failed" not in done.stderr and "Internal error" not in done.stderr
    assert "blob" not in done.stderr  # no node ran


def test_a_full_disk_is_the_platforms_fault_not_the_components(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", size="64k") as mount:
        done = shipyard(
            tmp_path, "run", _pipeline(tmp_path), "--pipeline", "blobs",
            "--param", "size_bytes=400000", "--artifact-root", str(mount / "artifacts"),
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Artifact storage error in node blob" in done.stderr
    assert "a fault of the platform, not of component blob" in done.stderr
    assert "(ENOSPC)" in done.stderr
    assert done.stderr.index("is full: free space there") < done.stderr.index("Traceback")
    assert "Fix the error, then resume with: shipyard run pipeline.py" in done.stderr


def test_a_store_deleted_mid_run_fails_the_run_and_never_says_complete(tmp_path: Path) -> None:
    done = shipyard(tmp_path, "run", _pipeline(tmp_path), "--pipeline", "vanishing")
    assert done.returncode == 1, done.stderr
    assert "Error: Metadata store error:" in done.stderr
    assert "was deleted while it was open" in done.stderr
    assert "complete" not in done.stderr.replace("\n", " ").split("Error:")[0]
    listed = shipyard(tmp_path, "runs", "--json")  # no store was silently made again
    assert listed.returncode == 1
    assert "store.db does not exist" in listed.stderr.replace("\n", " ")
