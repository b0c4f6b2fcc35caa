"""The persistent fingerprint cache: an unchanged file is not read again by a later process;
any change of size, times, inode or device reads it again; the cache never fails a hash."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shipyard.io import FingerprintCache, fingerprint_path, fingerprints, hashing
from shipyard.io.fingerprints import FINGERPRINTS_FILENAME

_SIZE_BYTES = 50 * 1024 * 1024
_FINGERPRINT_IN_A_PROCESS = (
    "import sys; from pathlib import Path; from shipyard.io import FingerprintCache, "
    "fingerprint_path; cache = FingerprintCache(Path(sys.argv[2])); "
    "print(fingerprint_path(sys.argv[1], cache=cache))"
)


class Reads:
    """Counts the files hashed (read through) in this process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = hashlib.file_digest

        def counting(handle: object, digest: str) -> object:
            self.count += 1
            return original(handle, digest)  # type: ignore[arg-type]

        monkeypatch.setattr(hashlib, "file_digest", counting)
        monkeypatch.setattr(hashing, "_file_memo", {})  # a fresh process remembers nothing


def _settle(*paths: Path, age_s: float = 60.0) -> None:
    """Date files back, as ones written before the run began, and wait out the racy window
    of the change time that dating them back set."""
    then = time.time() - age_s
    for path in paths:
        os.utime(path, (then, then))
    time.sleep(fingerprints.RACY_WINDOW_NS / 1e9 + 0.01)


def _fingerprint_elsewhere(path: Path, cache: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _FINGERPRINT_IN_A_PROCESS, str(path), str(cache)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    return done.stdout.strip()


@pytest.fixture
def cache(tmp_path: Path) -> FingerprintCache:
    return FingerprintCache(tmp_path / ".shipyard" / FINGERPRINTS_FILENAME)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    return Reads(monkeypatch)


@pytest.fixture
def short_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A racy window of 0.2 s in this process, so that tests need not wait 2 s per file."""
    monkeypatch.setattr(fingerprints, "RACY_WINDOW_NS", 200_000_000)


def test_a_later_process_does_not_read_an_unchanged_large_file(
    tmp_path: Path, cache: FingerprintCache, reads: Reads
) -> None:
    data = tmp_path / "big.csv"
    data.write_bytes(os.urandom(1024) * (_SIZE_BYTES // 1024))
    _settle(data)
    expected = hashlib.sha256(data.read_bytes()).hexdigest()
    assert _fingerprint_elsewhere(data, cache.path) == expected
    assert cache.entries() == [(str(data.resolve()), expected)]
    assert fingerprint_path(data, cache=cache) == expected
    assert reads.count == 0  # without the cache, this process would have read 50 MB


@pytest.mark.usefixtures("short_window")
def test_touching_a_file_hashes_it_again(
    tmp_path: Path, cache: FingerprintCache, reads: Reads
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    _settle(data)
    first = fingerprint_path(data, cache=cache)
    hashing._file_memo.clear()
    assert fingerprint_path(data, cache=cache) == first
    assert reads.count == 1
    _settle(data, age_s=30.0)  # a new mtime (and ctime), the same bytes
    hashing._file_memo.clear()
    assert fingerprint_path(data, cache=cache) == first
    assert reads.count == 2


@pytest.mark.usefixtures("short_window")
def test_a_rewrite_that_restores_size_and_mtime_is_still_seen(
    tmp_path: Path, cache: FingerprintCache, reads: Reads
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    _settle(data)
    stat = data.stat()
    first = fingerprint_path(data, cache=cache)
    data.write_text("a,b\n3,4\n")  # the same size
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old mtime, as rsync -t
    time.sleep(fingerprints.RACY_WINDOW_NS / 1e9 + 0.01)  # and a settled change time
    hashing._file_memo.clear()
    second = fingerprint_path(data, cache=cache)
    assert second != first
    assert second == hashlib.sha256(b"a,b\n3,4\n").hexdigest()


@pytest.mark.usefixtures("short_window")
def test_a_file_replaced_by_rename_is_hashed_again(
    tmp_path: Path, cache: FingerprintCache, reads: Reads
) -> None:
    data, fresh = tmp_path / "data.csv", tmp_path / "fresh.csv"
    data.write_text("one\n")
    fresh.write_text("two\n")
    _settle(data, fresh)
    os.utime(fresh, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns))
    first = fingerprint_path(data, cache=cache)
    fresh.replace(data)  # a new inode under the old name, with the same size and mtime
    hashing._file_memo.clear()
    assert fingerprint_path(data, cache=cache) == hashlib.sha256(b"two\n").hexdigest() != first


@pytest.mark.usefixtures("short_window")
def test_a_file_written_just_now_is_not_remembered(
    tmp_path: Path, cache: FingerprintCache, reads: Reads
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a\n")  # a second write in the same timestamp tick would go unseen
    fingerprint_path(data, cache=cache)
    assert cache.entries() == []
    fingerprint_path(data, cache=cache)
    assert reads.count == 2


@pytest.mark.usefixtures("short_window")
def test_a_directory_counts_each_file_through_the_cache(
    tmp_path: Path, cache: FingerprintCache, reads: Reads
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text(name)
    _settle(folder / "a.csv", folder / "b.csv")
    first = fingerprint_path(folder, cache=cache)
    assert [Path(path).name for path, _ in cache.entries()] == ["a.csv", "b.csv"]
    hashing._file_memo.clear()
    (folder / "b.csv").write_text("changed")
    _settle(folder / "b.csv", age_s=10.0)
    assert fingerprint_path(folder, cache=cache) != first
    assert reads.count == 3  # a.csv once, b.csv before and after its change


@pytest.mark.usefixtures("short_window")
def test_an_unusable_cache_hashes_without_it(tmp_path: Path, reads: Reads) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a\n")
    _settle(data)
    expected = hashlib.sha256(b"a\n").hexdigest()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not a SQLite database, " * 100)
    for path in (blocked / FINGERPRINTS_FILENAME, damaged):
        assert fingerprint_path(data, cache=FingerprintCache(path)) == expected
        hashing._file_memo.clear()
    assert reads.count == 2
    assert damaged.read_bytes().startswith(b"this is not")  # left as it was


def test_processes_filling_the_cache_at_once_lose_nothing(
    tmp_path: Path, cache: FingerprintCache
) -> None:
    files = []
    for index in range(6):
        path = tmp_path / f"part-{index}.csv"
        path.write_text(f"{index}\n" * 1000)
        files.append(path)
    _settle(*files)
    script = (
        "import sys; from pathlib import Path; from shipyard.io import FingerprintCache, "
        "fingerprint_path; cache = FingerprintCache(Path(sys.argv[1])); "
        "[fingerprint_path(p, cache=cache) for p in sys.argv[2:]]"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(cache.path), *map(str, files[start::2])],
            env=env,
        )
        for start in (0, 1, 0, 1)
    ]
    assert [process.wait(timeout=60) for process in processes] == [0, 0, 0, 0]
    assert dict(cache.entries()) == {
        str(path.resolve()): hashlib.sha256(path.read_bytes()).hexdigest() for path in files
    }
