"""Packing a working directory: the files git would commit, the same bytes each time, a limit."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from typing import TYPE_CHECKING

import pytest

from shipyard.errors import InvalidParameterError
from shipyard.platform.jobs.packing import list_files, pack_directory

if TYPE_CHECKING:
    from pathlib import Path


def _tree(root: Path) -> None:
    for name, text in {
        "pipeline.py": "print(1)\n",
        ".gitignore": "data/\n*.log\n/build\n",
        "data/big.csv": "a,b\n",
        "run.log": "noise\n",
        "build/out.txt": "x\n",
        "src/build/kept.py": "y\n",
        "src/module.py": "z\n",
        ".shipyard/store.db": "",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


EXPECTED = [".gitignore", "pipeline.py", "src/build/kept.py", "src/module.py"]


def test_a_plain_directory_honours_its_gitignore(tmp_path: Path) -> None:
    _tree(tmp_path)
    assert list_files(tmp_path) == EXPECTED


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_git_checkout_packs_what_git_would_commit(tmp_path: Path) -> None:
    _tree(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("src/module.py\n")
    assert list_files(tmp_path) == [".gitignore", "pipeline.py", "src/build/kept.py"]


def test_the_same_files_pack_to_the_same_bytes(tmp_path: Path) -> None:
    _tree(tmp_path)
    first = pack_directory(tmp_path, max_bytes=10**6)
    (tmp_path / "pipeline.py").touch()  # a new mtime changes nothing
    assert pack_directory(tmp_path, max_bytes=10**6) == first
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as archive:
        assert archive.getnames() == EXPECTED


def test_a_directory_over_the_limit_names_its_largest_files(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(bytes(range(256)) * 4000)
    (tmp_path / "job.py").write_text("pass\n")
    largest = r"over 1,000 bytes; the largest files are weights\.bin \(1,024,000 bytes\)"
    with pytest.raises(InvalidParameterError, match=largest):
        pack_directory(tmp_path, max_bytes=1000)


def test_a_link_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("s3cret")
    work = tmp_path / "work"
    work.mkdir()
    (work / "secret.txt").symlink_to(outside)
    with pytest.raises(InvalidParameterError, match="outside the directory being packed"):
        pack_directory(work, max_bytes=10**6)
