"""Label edits of a model config: canaries started, promoted, rolled back; files kept valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shipyard.errors import ConfigError
from shipyard.serving.config import (
    BatchingOptions,
    Canary,
    ModelConfig,
    ModelConfigFile,
    VersionPolicy,
    model_config_data,
    parse_model_config,
    read_model_config,
    write_model_config,
)
from shipyard.serving.labels import Release, end_canary, find_model, make_stable, start_canary


def _versions(base: Path, *versions: int) -> Path:
    for version in versions:
        (base / str(version)).mkdir(parents=True)
    return base


def test_a_config_written_reads_back_the_same(tmp_path: Path) -> None:
    config = ModelConfigFile(
        (
            ModelConfig(
                "penguins",
                tmp_path / "penguins",
                VersionPolicy(kind="specific", versions=frozenset({1, 2})),
                labels={"stable": 1, "canary": 2},
                canary=Canary(version=2, percent=12.5),
            ),
            ModelConfig("mass", Path("/elsewhere/mass"), VersionPolicy(num_versions=2)),
        ),
        BatchingOptions(max_batch_size=32, num_batch_threads=2),
    )
    path = tmp_path / "models.yaml"
    write_model_config(path, config)
    data = yaml.safe_load(path.read_text())
    assert data["models"][0]["base_path"] == "penguins"  # relative to the file
    assert data["models"][1]["base_path"] == "/elsewhere/mass"
    assert read_model_config(path) == config
    as_json = tmp_path / "models.json"
    write_model_config(as_json, config)
    assert read_model_config(as_json) == config
    data = model_config_data(config, relative_to=tmp_path)
    assert parse_model_config(data, source="x", relative_to=tmp_path) == config


def test_text_proto_configs_are_read_but_never_written(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not TF Serving's text format"):
        write_model_config(tmp_path / "models.config", ModelConfigFile(()))
    assert not (tmp_path / "models.config").exists()


def test_a_canary_beside_the_newest_older_version_then_promoted(tmp_path: Path) -> None:
    base = _versions(tmp_path / "penguins", 1, 2)
    path = tmp_path / "models.yaml"
    release = start_canary(path, name="penguins", base_path=base, version=2, percent=10)
    assert release == Release(stable=1, canary=2, percent=10)
    model = find_model(path, "penguins")
    assert model is not None
    assert model.labels == {"stable": 1, "canary": 2}
    assert model.canary == Canary(version=2, percent=10)
    assert model.version_policy == VersionPolicy(kind="specific", versions=frozenset({1, 2}))
    before, after = end_canary(path, name="penguins", promote=True, canary=2)
    assert (before, after) == (release, Release(stable=2))
    model = find_model(path, "penguins")
    assert model is not None
    assert model.labels == {"stable": 2} and model.canary is None
    assert model.version_policy.versions == frozenset({2})
    assert not list(tmp_path.glob(".*.tmp"))  # the staging file was renamed


def test_a_rollback_keeps_stable_other_labels_models_and_batching(tmp_path: Path) -> None:
    base = _versions(tmp_path / "penguins", 1, 2, 3)
    path = tmp_path / "models.yaml"
    path.write_text(
        "models:\n"
        "  - {name: mass, base_path: mass}\n"
        "  - {name: penguins, base_path: penguins, labels: {stable: 1, old: 1}}\n"
        "batching: {max_batch_size: 8}\n"
    )
    release = start_canary(path, name="penguins", base_path=base, version=3, percent=5)
    assert release == Release(stable=1, canary=3, percent=5)  # the label, not the newest
    _, after = end_canary(path, name="penguins", promote=False)
    assert after == Release(stable=1)
    config = read_model_config(path)
    assert [m.name for m in config.models] == ["mass", "penguins"]
    assert config.models[1].labels == {"old": 1, "stable": 1}
    assert config.batching is not None and config.batching.max_batch_size == 8


def test_a_first_push_has_nothing_to_canary_against_and_becomes_stable(tmp_path: Path) -> None:
    base = _versions(tmp_path / "penguins", 1)
    path = tmp_path / "models.yaml"
    release = start_canary(path, name="penguins", base_path=base, version=1, percent=10)
    assert release == Release(stable=1)
    assert make_stable(path, name="penguins", base_path=base, version=1) == release


def test_ending_a_canary_that_is_missing_or_changed_is_refused(tmp_path: Path) -> None:
    base = _versions(tmp_path / "penguins", 1, 2, 3)
    path = tmp_path / "models.yaml"
    with pytest.raises(ConfigError, match="lists no model 'penguins'"):
        end_canary(path, name="penguins", promote=True)
    make_stable(path, name="penguins", base_path=base, version=1)
    with pytest.raises(ConfigError, match="has no canary"):
        end_canary(path, name="penguins", promote=True)
    start_canary(path, name="penguins", base_path=base, version=3, percent=10)
    with pytest.raises(ConfigError, match="changed from version 2 to 3 meanwhile"):
        end_canary(path, name="penguins", promote=True, canary=2)
    assert Release.of(find_model(path, "penguins")) == Release(1, 3, 10)  # type: ignore[arg-type]
