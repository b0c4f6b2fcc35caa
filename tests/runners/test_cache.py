"""Cache keys count local input files by content, remembered across processes."""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

import pytest

from shipyard import Pipeline
from shipyard.io import FingerprintCache, hashing
from shipyard.io.fingerprints import FINGERPRINTS_FILENAME, RACY_WINDOW_NS
from tests.conftest import Workspace
from tests.runners.components import read_file


def test_a_rerun_reads_an_unchanged_input_file_only_from_the_cache(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = workspace.root / "data.txt"
    data.write_text("one")
    then = time.time() - 60
    os.utime(data, (then, then))
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.01)
    first = workspace.run(Pipeline("files", nodes=[read_file(path=str(data))]))
    assert first["read_file"].state == "complete"
    remembered = FingerprintCache(workspace.root / ".shipyard" / FINGERPRINTS_FILENAME)
    assert remembered.entries() == [(str(data.resolve()), hashlib.sha256(b"one").hexdigest())]

    reads: list[str] = []
    original = hashlib.file_digest

    def counting(handle: Any, digest: str) -> Any:
        reads.append(handle.name)
        return original(handle, digest)

    monkeypatch.setattr(hashlib, "file_digest", counting)
    monkeypatch.setattr(hashing, "_file_memo", {})  # as a new process
    again = workspace.run(Pipeline("files", nodes=[read_file(path=str(data))]))
    assert again["read_file"].state == "cached"
    assert reads == []  # neither the input file nor anything else was read to hash it

    data.write_text("two")  # the same size: only the times tell
    changed = workspace.run(Pipeline("files", nodes=[read_file(path=str(data))]))
    assert changed["read_file"].state == "complete"
    assert (changed["read_file"].outputs["out"].path / "copy.txt").read_text() == "two"
