"""Model config files: YAML, JSON and TensorFlow Serving's text proto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.errors import ConfigError, InvalidParameterError
from shipyard.serving import config
from shipyard.serving.config import (
    BatchingOptions,
    Canary,
    ModelConfig,
    RequestLogOptions,
    RuntimeOptions,
    ServerOptions,
    VersionPolicy,
    dump_settings,
    load_settings,
    read_model_config,
)
from shipyard.serving.text_proto import parse_text_proto


def test_yaml_config(tmp_path: Path) -> None:
    file = tmp_path / "models.yaml"
    file.write_text(
        "models:\n"
        "  - name: penguins\n"
        "    base_path: repo/penguins\n"
        "    version_policy: {latest: 2}\n"
        "    labels: {stable: 1, canary: 2}\n"
        "  - name: mass\n"
        "    base_path: /srv/models/mass\n"
        "    version_policy: all\n"
    )
    penguins, mass = read_model_config(file).models
    assert penguins == ModelConfig(
        "penguins",
        tmp_path / "repo" / "penguins",  # relative to the config file
        VersionPolicy(kind="latest", num_versions=2),
        {"stable": 1, "canary": 2},
    )
    assert mass.base_path == Path("/srv/models/mass")
    assert mass.version_policy == VersionPolicy(kind="all")


def test_json_config_with_specific_versions(tmp_path: Path) -> None:
    file = tmp_path / "models.json"
    models = [{"name": "m", "base_path": "m", "version_policy": {"specific": [3, 1]}}]
    file.write_text(json.dumps({"models": models}))
    (model,) = read_model_config(file).models
    assert model.version_policy == VersionPolicy(kind="specific", versions=frozenset({1, 3}))
    assert model.version_policy.select([1, 2, 3, 4]) == {1, 3}


def test_tf_serving_text_proto_config(tmp_path: Path) -> None:
    file = tmp_path / "models.config"
    file.write_text(
        """
        # TF Serving's model_config_list, as passed to --model_config_file
        model_config_list {
          config {
            name: 'penguins'
            base_path: "/models/penguins"
            model_platform: "tensorflow"
            model_version_policy { specific { versions: 1 versions: 2 } }
            version_labels { key: 'stable' value: 1 }
            version_labels { key: 'canary' value: 2 }
          }
          config: {
            name: "mass" base_path: "mass" model_version_policy: { latest: { num_versions: 3 } }
          }
          config { name: "all" base_path: "all" model_version_policy { all {} } }
        }
        """
    )
    penguins, mass, every = read_model_config(file).models
    assert penguins == ModelConfig(
        "penguins",
        Path("/models/penguins"),
        VersionPolicy(kind="specific", versions=frozenset({1, 2})),
        {"stable": 1, "canary": 2},
    )
    assert mass.version_policy == VersionPolicy(kind="latest", num_versions=3)
    assert mass.base_path == tmp_path / "mass"
    assert every.version_policy == VersionPolicy(kind="all")


def test_text_proto_parser() -> None:
    assert parse_text_proto("a: 1 b { c: 'x\\'y' d: [1, 2] } b { c: \"z\" } e: true f: -2.5") == {
        "a": 1,
        "b": [{"c": "x'y", "d": [1, 2]}, {"c": "z"}],
        "e": True,
        "f": -2.5,
    }
    with pytest.raises(ConfigError, match=r"models.config, line 2: expected '}'"):
        parse_text_proto("model_config_list {\n config { name: 'a' }", source="models.config")
    with pytest.raises(ConfigError, match="line 1: unexpected '@'"):
        parse_text_proto("a: @")


def test_every_problem_in_a_config_is_reported(tmp_path: Path) -> None:
    file = tmp_path / "models.yaml"
    file.write_text(
        "models:\n"
        "  - {name: ../escape, base_path: x}\n"
        "  - {name: ok, version_policy: {latest: 0}, labels: {stable: x}, extra: 1}\n"
        "  - {name: twice, base_path: a}\n"
        "  - {name: twice, base_path: b}\n"
    )
    with pytest.raises(ConfigError) as caught:
        read_model_config(file)
    message = str(caught.value)
    assert message.startswith("6 problem(s) in the model config")
    for part in (
        "model 1 (../escape): 'name' must be a directory name",
        "model 2 (ok): unknown keys extra",
        "model 2 (ok): 'base_path' must be a directory",
        "'version_policy' must be latest, all, {latest: N} or {specific: [V, ...]}, "
        "got {'latest': 0}",
        "the label 'stable' must be a name mapped to a version number, got 'x'",
        "the name 'twice' is used twice",
    ):
        assert part in message


@pytest.mark.parametrize("text", ["", "[1, 2]", "models: 3", "other: []"])
def test_a_config_of_the_wrong_shape_is_refused(tmp_path: Path, text: str) -> None:
    file = tmp_path / "models.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError, match="expected a mapping with the key 'models'"):
        read_model_config(file)


def test_unreadable_or_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read the model config"):
        read_model_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        read_model_config(tmp_path / "bad.json")
    (tmp_path / "bad.yaml").write_text("models: [")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        read_model_config(tmp_path / "bad.yaml")


@pytest.mark.parametrize("name", ["", "a/b", "..", ".hidden", "a:b", " a"])
def test_model_names_stay_directory_names(name: str) -> None:
    with pytest.raises(InvalidParameterError, match="The model name must be a directory name"):
        ModelConfig(name, Path("/m"))


def test_the_documented_config_files_are_read() -> None:
    examples = Path(__file__).resolve().parents[2] / "docs" / "examples" / "serving"
    page = (examples.parents[1] / "serving.md").read_text()
    documented = read_model_config(examples / "models.yaml")
    penguins, mass = documented.models
    assert penguins.version_policy == VersionPolicy(kind="latest", num_versions=2)
    assert penguins.labels == {"stable": 1, "canary": 2}
    assert penguins.canary == Canary(version=2, percent=10)
    assert documented.batching == BatchingOptions(max_batch_size=32, batch_timeout_micros=1000)
    assert mass.base_path == examples / "models" / "mass"
    (tf_penguins,) = read_model_config(examples / "models.config").models
    assert tf_penguins.labels == penguins.labels
    for file in ("models.yaml", "models.config"):
        assert (examples / file).read_text() in page


def test_canary_and_batching_sections(tmp_path: Path) -> None:
    file = tmp_path / "models.yaml"
    file.write_text(
        "models:\n"
        "  - name: penguins\n"
        "    base_path: penguins\n"
        "    version_policy: {latest: 2}\n"
        "    canary: {version: 2, percent: 12.5}\n"
        "batching:\n"
        "  max_batch_size: 32\n"
        "  batch_timeout_micros: 1000\n"
    )
    config = read_model_config(file)
    assert config.models[0].canary == Canary(version=2, percent=12.5)
    assert config.batching == BatchingOptions(max_batch_size=32, batch_timeout_micros=1000)
    assert config.batching.max_enqueued_batches == 100  # the other defaults stay


def test_bad_canaries_and_batching_are_reported_at_once(tmp_path: Path) -> None:
    file = tmp_path / "models.yaml"
    file.write_text(
        "models:\n"
        "  - {name: a, base_path: a, canary: {version: 2, percent: 120}}\n"
        "  - {name: b, base_path: b, canary: {version: 2, percent: 10}}\n"
        "  - {name: c, base_path: c, version_policy: {specific: [1, 3]},"
        " canary: {version: 2, percent: 10}}\n"
        "batching: {max_batch_size: 0, num_batch_threads: two}\n"
    )
    with pytest.raises(ConfigError) as caught:
        read_model_config(file)
    message = str(caught.value)
    assert message.startswith("5 problem(s)")
    for part in (
        "model 1 (a): 'canary' must be {version: V, percent: P} with P from 0 to 100",
        "model 2 (b): the canary version 2 needs a version policy that serves it beside "
        "another version",
        "got latest 1",
        "model 3 (c): the canary version 2 needs",
        "batching: 'max_batch_size' must be an integer >= 1, got 0",
        "batching: 'num_batch_threads' must be an integer >= 1, got 'two'",
    ):
        assert part in message


def test_settings_survive_the_trip_to_worker_processes(tmp_path: Path) -> None:
    models = (
        ModelConfig(
            "penguins",
            tmp_path / "penguins",
            VersionPolicy(kind="specific", versions=frozenset({1, 2})),
            {"stable": 1},
            Canary(version=2, percent=5.0),
        ),
    )
    options = ServerOptions(
        port=9000,
        runtime=RuntimeOptions(intra_op_threads=1, device="cpu"),
        batching=BatchingOptions(max_batch_size=8),
        request_log=RequestLogOptions(tmp_path / "logs", sample=0.25),
        workers=3,
    )
    assert load_settings(dump_settings(models, options)) == (models, options)


@pytest.mark.parametrize(("cpus", "threads"), [(16, 15), (2, 1), (1, 1), (None, 1)])
def test_batching_leaves_the_event_loop_a_core_by_default(
    monkeypatch: pytest.MonkeyPatch, cpus: int | None, threads: int
) -> None:
    monkeypatch.setattr(config.os, "cpu_count", lambda: cpus)
    assert BatchingOptions().num_batch_threads == threads
    assert BatchingOptions(num_batch_threads=4).num_batch_threads == 4
