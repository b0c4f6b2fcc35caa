from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.io import ArtifactStorage, fingerprint_path


@pytest.mark.parametrize("root", ["local", "memory://io-test-root"])
def test_stage_publish_localize_remove(tmp_path: Path, root: str) -> None:
    storage = ArtifactStorage(
        str(tmp_path / "art") if root == "local" else root, scratch_dir=tmp_path / "scratch"
    )
    staging = storage.new_staging("run1")
    (staging / "sub").mkdir()
    (staging / "sub" / "a.txt").write_text("hello")
    uri = storage.uri_for("pipe", "run1", "node", "out")
    assert not storage.exists(uri)
    local = storage.publish(staging, uri)
    assert storage.exists(uri)
    assert (local / "sub" / "a.txt").read_text() == "hello"
    assert not staging.exists()
    assert storage.published_uris() == [uri]
    assert storage.local_path(uri) == local
    if root != "local":
        import shutil

        shutil.rmtree(local)
        assert (storage.localize(uri) / "sub" / "a.txt").read_text() == "hello"
    storage.remove(uri)
    assert not storage.exists(uri)
    assert storage.published_uris() == []


def test_staging_of_a_run_can_be_discarded(tmp_path: Path) -> None:
    storage = ArtifactStorage(str(tmp_path / "art"), scratch_dir=tmp_path / "scratch")
    storage.new_staging("r1")
    storage.new_staging("r2")
    assert storage.staging_runs() == ["r1", "r2"]
    storage.discard_run_staging("r1")
    assert storage.staging_runs() == ["r2"]


def test_fingerprint_covers_names_and_contents(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_text("1")
    first = fingerprint_path(tmp_path / "d")
    assert fingerprint_path(tmp_path / "d") == first
    (tmp_path / "d" / "a").write_text("2")
    second = fingerprint_path(tmp_path / "d")
    assert second != first
    (tmp_path / "d" / "a").rename(tmp_path / "d" / "b")
    assert fingerprint_path(tmp_path / "d") not in (first, second)
    (tmp_path / "d" / ".hidden").write_text("ignored")
    assert fingerprint_path(tmp_path / "d") == fingerprint_path(tmp_path / "d")
    with pytest.raises(FileNotFoundError):
        fingerprint_path(tmp_path / "missing")
