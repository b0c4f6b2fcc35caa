"""An artifact root on S3, against moto's S3 server run as a real process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shipyard.errors import StorageError
from shipyard.io import ArtifactStorage
from shipyard.testing.s3 import running_s3
from tests.environment import CHECKOUT, child_environment

if TYPE_CHECKING:
    from collections.abc import Iterator

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

BUCKET = "artifacts"


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, str]]:
    with running_s3(buckets=[BUCKET]) as environment:
        yield environment


@pytest.fixture
def s3_environment(s3: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in s3.items():
        monkeypatch.setenv(key, value)
    return s3


def test_publish_list_localize_and_remove_on_s3(
    s3_environment: dict[str, str], tmp_path: Path
) -> None:
    storage = ArtifactStorage(f"s3://{BUCKET}/unit", scratch_dir=tmp_path / "scratch")
    staging = storage.new_staging("run1")
    (staging / "sub").mkdir()
    (staging / "sub" / "a.txt").write_text("hello")
    (staging / "b.bin").write_bytes(bytes(range(256)) * 4096)
    uri = storage.uri_for("pipe", "run1", "node", "out")
    assert not storage.exists(uri)
    local = storage.publish(staging, uri)
    assert storage.exists(uri)
    assert storage.published_uris() == [uri]
    assert storage.fs.cat(f"{uri}/sub/a.txt") == b"hello"
    shutil.rmtree(local)
    copy = storage.localize(uri)
    assert (copy / "sub" / "a.txt").read_text() == "hello"
    assert (copy / "b.bin").read_bytes() == bytes(range(256)) * 4096
    storage.remove(uri)
    assert not storage.exists(uri)
    assert storage.published_uris() == []


def test_an_unreachable_object_store_is_a_storage_error_naming_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # fsspec reuses a client made for another endpoint
    storage = ArtifactStorage("s3://gone/x", scratch_dir=tmp_path / "scratch")
    staging = storage.new_staging("run1")
    (staging / "a.txt").write_text("hello")
    with pytest.raises(StorageError, match="publishing s3://gone/x/pipe") as caught:
        storage.publish(staging, storage.uri_for("pipe", "run1", "node", "out"))
    assert "reachable" in str(caught.value)
    assert staging.is_dir(), "the staged output is kept for a retry"
    with pytest.raises(StorageError, match="removing s3://gone/x/pipe/run1"):
        storage.remove("s3://gone/x/pipe/run1/node/out")
    with pytest.raises(StorageError, match="listing the artifacts under s3://gone/x"):
        storage.published_uris()


@pytest.mark.slow
def test_a_pipeline_runs_and_reruns_from_cache_with_its_artifacts_on_s3(
    s3: dict[str, str], tmp_path: Path
) -> None:
    shutil.copytree(CHECKOUT / "examples" / "penguins", tmp_path / "penguins")
    work = tmp_path / "penguins"
    env = {**child_environment(checkout_first=True), **s3}
    root = f"s3://{BUCKET}/pipelines"
    command = [sys.executable, "-m", "shipyard", "run", "pipeline.py", "--artifact-root", root]
    first = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        [*command, "--json"], cwd=work, env=env, capture_output=True, text=True, check=False
    )
    assert second.returncode == 0, second.stderr
    run = json.loads(second.stdout)
    nodes = run["nodes"]
    assert nodes and all(node["state"] == "cached" for node in nodes.values()), nodes
    uris = [out["uri"] for node in nodes.values() for out in node["outputs"].values()]
    assert uris and all(uri.startswith(f"{root}/") for uri in uris), uris
    model = next(iter(nodes["train"]["outputs"].values()))
    shown = subprocess.run(
        [sys.executable, "-m", "shipyard", "artifacts", "show", str(model["id"]), "--json"],
        cwd=work, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["uri"].startswith(f"{root}/"), shown.stdout
    import s3fs

    fs = s3fs.S3FileSystem(
        key=s3["AWS_ACCESS_KEY_ID"],
        secret=s3["AWS_SECRET_ACCESS_KEY"],
        client_kwargs={"endpoint_url": s3["AWS_ENDPOINT_URL"]},
        skip_instance_cache=True,
    )
    stored = fs.find(f"{BUCKET}/pipelines")
    assert any(name.endswith(".parquet") for name in stored), stored[:20]
    assert not any("staging" in name for name in stored), "staged files leaked into the bucket"
    assert os.environ.get("AWS_ENDPOINT_URL") != s3["AWS_ENDPOINT_URL"]


def test_a_missing_filesystem_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec.core

    def refuse(url: str, **options: object) -> object:
        raise ImportError("Install s3fs to access S3")

    monkeypatch.setattr(fsspec.core, "url_to_fs", refuse)
    storage = ArtifactStorage("s3://bucket/x", scratch_dir=tmp_path / "scratch")
    with pytest.raises(StorageError, match=r"s3://bucket/x needs a package") as caught:
        storage.exists("s3://bucket/x/p")
    assert 'pip install "shipyard[s3]"' in str(caught.value)


def test_a_nodes_log_reaches_s3_when_the_node_ends(
    s3_environment: dict[str, str], tmp_path: Path
) -> None:
    import s3fs

    from shipyard.dsl.context import LogEntry
    from shipyard.runners.node_logs import NodeLogWriter, log_uri, read_node_log

    s3fs.S3FileSystem.clear_instance_cache()  # not a client another test made elsewhere
    storage = ArtifactStorage(f"s3://{BUCKET}/logs", scratch_dir=tmp_path / "scratch")
    writer = NodeLogWriter(storage, "pipe", "run1")
    writer.append("train", LogEntry(1.5e9, "INFO", "fit", "epoch 1"))
    writer.append("train", LogEntry(1.5e9 + 1, "WARNING", "fit", "slow"))
    assert read_node_log(storage, "pipe", "run1", "train") == ([], 0)  # not before it ends
    writer.finish("train")
    entries, offset = read_node_log(storage, "pipe", "run1", "train")
    assert [(e["level"], e["message"]) for e in entries] == [
        ("INFO", "epoch 1"),
        ("WARNING", "slow"),
    ]
    assert entries[0]["time"] == "2017-07-14T02:40:00.000+00:00"
    assert offset == len(storage.fs.cat(log_uri(storage, "pipe", "run1", "train")))
    assert read_node_log(storage, "pipe", "run1", "train", offset=offset) == ([], offset)
