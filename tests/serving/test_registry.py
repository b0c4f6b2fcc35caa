"""Which versions are served: policies, broken version directories, links out of the base."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.serving.config import ModelConfig, RuntimeOptions, VersionPolicy
from shipyard.serving.registry import ModelRegistry, VersionStatus
from shipyard.serving.repository import scan_versions
from tests.serving.conftest import add_version
from tests.serving.server import SINGLE_THREADED, RunningServer


def _registry(base: Path, policy: VersionPolicy | None = None) -> ModelRegistry:
    config = ModelConfig("penguins", base, policy or VersionPolicy())
    registry = ModelRegistry([config], SINGLE_THREADED)
    registry.sync()
    return registry


def test_scan_finds_integer_directories_only(tmp_path: Path) -> None:
    for name in ("1", "12", "007", ".push-3", "tmp", "0"):
        (tmp_path / name).mkdir()
    (tmp_path / "5").write_text("a file")
    assert sorted(scan_versions(tmp_path)) == [0, 1, 12]
    assert scan_versions(tmp_path / "missing") == {}


@pytest.mark.parametrize(
    ("policy", "served"),
    [
        (VersionPolicy(), [3]),
        (VersionPolicy(kind="latest", num_versions=2), [3, 2]),
        (VersionPolicy(kind="all"), [3, 2, 1]),
        (VersionPolicy(kind="specific", versions=frozenset({1, 3, 8})), [3, 1]),
    ],
)
def test_version_policies(
    trained: dict[str, Path], tmp_path: Path, policy: VersionPolicy, served: list[int]
) -> None:
    for version in (1, 2, 3):
        add_version(tmp_path, version, trained["penguins"])
    assert _registry(tmp_path, policy).available_versions("penguins") == served


def test_a_broken_version_is_reported_and_skipped_while_others_serve(
    trained: dict[str, Path], tmp_path: Path, penguin_row: dict[str, object]
) -> None:
    add_version(tmp_path, 1, trained["penguins"])
    broken = add_version(tmp_path, 2, trained["penguins"])
    (broken / "model.onnx").write_bytes(b"not an onnx model")
    (add_version(tmp_path, 3, trained["penguins"]) / "signature.json").unlink()
    (add_version(tmp_path, 4, trained["penguins"]) / "signature.json").write_text("{")

    with RunningServer([ModelConfig("penguins", tmp_path)]) as server:
        status, body = server.get("/v1/models/penguins")
        assert status == 200
        states = [
            (s["version"], s["state"], s["status"]["error_code"])
            for s in body["model_version_status"]
        ]
        assert states == [
            ("4", "END", "INVALID_ARGUMENT"),
            ("3", "END", "NOT_FOUND"),
            ("2", "END", "INVALID_ARGUMENT"),
            ("1", "AVAILABLE", "OK"),
        ]
        messages = [s["status"]["error_message"] for s in body["model_version_status"]]
        assert "4/signature.json: not valid JSON" in messages[0]
        assert "version 3 has no signature.json" in messages[1]
        assert "2/model.onnx: ONNX Runtime cannot load it" in messages[2]
        assert server.post("/v1/models/penguins:predict", {"instances": [penguin_row]})[0] == 200

        shutil.copy(trained["penguins"] / "model.onnx", broken / "model.onnx")  # fixed
        server.registry.sync()
        assert server.registry.available_versions("penguins") == [2]
        assert server.get("/v1/models/penguins/versions/2")[1]["model_version_status"] == [
            {
                "version": "2",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]


def test_links_out_of_the_base_path_are_refused(trained: dict[str, Path], tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(trained["penguins"], outside)
    base = tmp_path / "base"
    base.mkdir()
    (base / "1").symlink_to(outside, target_is_directory=True)
    version = add_version(base, 2, trained["penguins"])
    (version / "model.onnx").unlink()
    (version / "model.onnx").symlink_to(outside / "model.onnx")
    registry = _registry(base)
    assert registry.available_versions("penguins") == []
    statuses = registry.status("penguins")
    assert [s.state for s in statuses] == ["END", "END"]
    assert all("resolves outside the base path" in s.error_message for s in statuses)


def test_a_model_without_versions_yet_is_not_ready(tmp_path: Path) -> None:
    registry = _registry(tmp_path / "nothing-here")
    assert not registry.is_ready("penguins")
    with (
        pytest.raises(NotFoundError, match="no version available yet"),
        registry.acquire("penguins"),
    ):
        pass
    with pytest.raises(NotFoundError, match="Could not find any version"):
        registry.status("penguins")


def test_acquire_counts_requests_and_retired_versions_release_after_the_last(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    add_version(tmp_path, 1, trained["penguins"])
    registry = _registry(tmp_path)
    with registry.acquire("penguins") as old:
        assert old.in_flight == 1
        add_version(tmp_path, 2, trained["penguins"])
        registry.sync()
        assert registry.available_versions("penguins") == [2]
        assert not old.released  # a request still runs on it
    assert old.in_flight == 0 and old.released
    assert registry.status("penguins") == [VersionStatus(2, "AVAILABLE")]


def test_cuda_without_onnxruntime_gpu_is_a_clear_error(tmp_path: Path) -> None:
    import onnxruntime  # type: ignore[import-untyped]

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("ONNX Runtime here has CUDA")
    with pytest.raises(InvalidParameterError, match="onnxruntime-gpu"):
        ModelRegistry([ModelConfig("m", tmp_path)], RuntimeOptions(device="cuda"))
