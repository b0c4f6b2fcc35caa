"""The push component: a blessed model is copied to BASE/NAME/VERSION, atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard import Pipeline
from shipyard.artifacts import (
    BlessingDecision,
    InfraBlessing,
    InfraValidation,
    Model,
    ModelBlessing,
    PushDecision,
    PushedModel,
)
from shipyard.components import (
    compute_statistics,
    evaluate,
    infer_schema,
    ingest,
    push,
    train,
    transform,
)
from shipyard.components.push import next_version
from shipyard.errors import DataError, InvalidParameterError
from shipyard.serving.config import read_model_config
from tests.conftest import Workspace

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PENGUINS = EXAMPLES / "penguins" / "data" / "penguins.csv"


def pipeline(
    base: Path, *, minimum: float = 0.9, name: str = "penguins", seed: int = 0
) -> Pipeline:
    raw = ingest(source=str(PENGUINS), splits={"train": 8, "eval": 2})
    stats = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=stats.outputs.statistics, label="species")
    prepared = transform(examples=raw.outputs.examples, schema=schema.outputs.schema)
    trained = train(
        transformed=prepared.outputs.transformed,
        transform_graph=prepared.outputs.transform_graph,
        schema=schema.outputs.schema,
        hidden_units=[16, 8],
        epochs=30,
        learning_rate=0.01,
        batch_size=32,
        seed=seed,
    )
    checked = evaluate(
        examples=raw.outputs.examples,
        model=trained.outputs.model,
        thresholds={"accuracy": {"min": minimum}},
    )
    pushed = push(
        model=trained.outputs.model,
        blessing=checked.outputs.blessing,
        base=str(base),
        name=name,
    )
    return Pipeline("penguins_push", nodes=[pushed])


def test_blessed_models_are_pushed_as_new_versions(workspace: Workspace) -> None:
    base = workspace.root / "registry"
    first = workspace.run(pipeline(base))
    assert first.ok, [n.error for n in first.failed]
    evaluation = first["evaluate"].outputs["evaluation"]
    assert evaluation.load().metrics["accuracy"] >= 0.9
    assert first["evaluate"].outputs["blessing"].properties["blessed"] is True
    pushed = first["push"].outputs["pushed"]
    assert isinstance(pushed, PushedModel)
    target = base / "penguins" / "1"
    assert pushed.load() == PushDecision(
        pushed=True, name="penguins", version=1, path=str(target.resolve())
    )
    assert pushed.properties["pushed"] is True
    assert pushed.properties["version"] == 1
    assert (target / "model.onnx").is_file()
    model = first["train"].outputs["model"]
    assert sorted(Model(target).files()) == sorted(model.files())
    assert Model(target).signature() == model.signature()

    # A changed evaluation runs push again, but the same model is not copied twice.
    again = workspace.run(pipeline(base, minimum=0.85))
    assert again.ok, [n.error for n in again.failed]
    assert again["push"].outputs["pushed"].load() == pushed.load()
    assert sorted(p.name for p in (base / "penguins").iterdir()) == ["1"]

    # Another model is the next version; nothing is overwritten.
    second = workspace.run(pipeline(base, seed=1))
    assert second.ok, [n.error for n in second.failed]
    assert second["push"].outputs["pushed"].load().version == 2
    assert sorted(p.name for p in (base / "penguins").iterdir()) == ["1", "2"]
    assert (base / "penguins" / "2" / "model.onnx").read_bytes() == (
        second["train"].outputs["model"].path / "model.onnx"
    ).read_bytes()
    assert Model(target).signature() == model.signature()

    # An unblessed model is not pushed, and nothing is written.
    third = workspace.run(pipeline(base, minimum=1.01))
    assert third.ok, [n.error for n in third.failed]
    assert third["evaluate"].outputs["blessing"].properties["blessed"] is False
    decision = third["push"].outputs["pushed"].load()
    assert not decision.pushed
    assert decision.reason is not None
    assert "accuracy" in decision.reason
    assert decision.version is None
    assert sorted(p.name for p in (base / "penguins").iterdir()) == ["1", "2"]


def test_an_unblessed_model_writes_nothing(workspace: Workspace) -> None:
    base = workspace.root / "registry"
    result = workspace.run(pipeline(base, minimum=1.01))
    assert result.ok, [n.error for n in result.failed]
    pushed = result["push"].outputs["pushed"]
    assert pushed.properties == {"pushed": False, "reason": pushed.load().reason}
    assert not base.exists()


def test_an_invalid_name_fails_the_push(workspace: Workspace) -> None:
    base = workspace.root / "registry"
    result = workspace.run(pipeline(base, name="../escape"))
    assert not result.ok
    assert [n.name for n in result.failed] == ["push"]
    assert "name" in str(result.failed[0].error)
    assert not base.exists()
    assert not (workspace.root / "escape").exists()


def _model_and_blessing(root: Path, *, blessed: bool) -> tuple[Model, ModelBlessing]:
    model = Model(root / "model")
    model.path.mkdir(parents=True)
    (model.path / Model.ONNX_FILENAME).write_bytes(b"onnx")
    (model.path / Model.SIGNATURE_FILENAME).write_text("{}")
    blessing = ModelBlessing(root / "blessing")
    blessing.save(BlessingDecision(blessed=blessed))
    return model, blessing


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "a..b", ".hidden", " x"])
def test_names_with_separators_or_dots_are_refused(tmp_path: Path, name: str) -> None:
    model, blessing = _model_and_blessing(tmp_path, blessed=True)
    with pytest.raises(InvalidParameterError, match="'name' parameter of push"):
        push.fn(model, blessing, PushedModel(tmp_path / "pushed"), name=name, base=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blessing", "model"]


def test_versions_skip_existing_and_leave_no_staging(tmp_path: Path) -> None:
    model, blessing = _model_and_blessing(tmp_path, blessed=True)
    base = tmp_path / "models"
    (base / "m" / "3").mkdir(parents=True)
    (base / "m" / "notes").mkdir()
    assert next_version(base / "m") == 4
    pushed = PushedModel(tmp_path / "pushed")
    push.fn(model, blessing, pushed, name="m", base=base)
    assert pushed.load().version == 4
    assert sorted(p.name for p in (base / "m").iterdir()) == ["3", "4", "notes"]
    assert (base / "m" / "4" / "model.onnx").read_bytes() == b"onnx"


def test_the_default_base_is_resolved_against_the_pipeline_file() -> None:
    node = push(model=None, blessing=None, name="penguins")  # type: ignore[arg-type]
    assert node.parameters["base"] == str(Path(__file__).resolve().parent / "models")


def test_a_blessing_of_another_model_is_refused_unless_the_content_is_the_same(
    tmp_path: Path,
) -> None:
    """A training that ran again and made the same bytes, while the cache gave the first
    model's evaluation, pushes; a blessing of a model with other content does not."""
    model, blessing = _model_and_blessing(tmp_path, blessed=True)
    model.id, model.fingerprint = 30, "sha256:same"
    blessing.properties.update(model_id=15, model_fingerprint="sha256:other")
    with pytest.raises(DataError, match=r"is of the model 15, not of .*\(id 30\)"):
        push.fn(model, blessing, PushedModel(tmp_path / "refused"), name="m", base=tmp_path)
    blessing.properties.pop("model_fingerprint")  # a blessing from before fingerprints
    with pytest.raises(DataError, match="is of the model 15"):
        push.fn(model, blessing, PushedModel(tmp_path / "old"), name="m", base=tmp_path)
    blessing.properties["model_fingerprint"] = "sha256:same"
    pushed = PushedModel(tmp_path / "pushed")
    push.fn(model, blessing, pushed, name="m", base=tmp_path / "models")
    assert pushed.load().version == 1


def _infra(root: Path, *, blessed: bool) -> InfraBlessing:
    infra = InfraBlessing(root / f"infra-{blessed}")
    problems = () if blessed else ("request 3: answered 400: instances[0]['sex'] is required",)
    infra.save(InfraValidation(blessed, 20, 20, "eval split", 1000.0, {}, 1.2, problems))
    return infra


def test_a_model_that_failed_infra_validation_is_not_pushed(tmp_path: Path) -> None:
    model, blessing = _model_and_blessing(tmp_path, blessed=True)
    pushed = PushedModel(tmp_path / "pushed")
    push.fn(model, blessing, pushed, _infra(tmp_path, blessed=False), name="m", base=tmp_path)
    decision = pushed.load()
    assert not decision.pushed
    assert decision.reason == (
        "Not infra blessed: request 3: answered 400: instances[0]['sex'] is required"
    )
    assert not (tmp_path / "m").exists()
    good = PushedModel(tmp_path / "good")
    push.fn(model, blessing, good, _infra(tmp_path, blessed=True), name="m", base=tmp_path)
    assert good.load().version == 1


def test_a_canary_push_writes_the_model_config(tmp_path: Path) -> None:
    model, blessing = _model_and_blessing(tmp_path, blessed=True)
    base = tmp_path / "models"
    first = PushedModel(tmp_path / "first")
    push.fn(model, blessing, first, name="m", base=base)
    assert first.load().label is None and not (base / "models.yaml").exists()
    (model.path / Model.ONNX_FILENAME).write_bytes(b"onnx 2")
    second = PushedModel(tmp_path / "second")
    push.fn(model, blessing, second, name="m", base=base, canary_percent=10)
    config = base / "models.yaml"
    assert second.load() == PushDecision(
        pushed=True,
        name="m",
        version=2,
        path=str(base.resolve() / "m" / "2"),
        label="canary",
        canary_percent=10,
        model_config=str(config.resolve()),
    )
    assert second.properties["label"] == "canary"
    (entry,) = read_model_config(config).models
    assert entry.labels == {"stable": 1, "canary": 2}
    # A plain push to a model the config lists becomes stable, so the config serves it.
    (model.path / Model.ONNX_FILENAME).write_bytes(b"onnx 3")
    third = PushedModel(tmp_path / "third")
    push.fn(model, blessing, third, name="m", base=base)
    assert third.load().label == "stable"
    (entry,) = read_model_config(config).models
    assert entry.labels == {"stable": 3} and entry.canary is None


@pytest.mark.parametrize("percent", [0, -5, 100.5, True])
def test_canary_shares_out_of_range_are_refused(tmp_path: Path, percent: float) -> None:
    model, blessing = _model_and_blessing(tmp_path, blessed=True)
    with pytest.raises(InvalidParameterError, match=r"'canary_percent' parameter of push"):
        push.fn(
            model, blessing, PushedModel(tmp_path / "p"), name="m", base=tmp_path,
            canary_percent=percent,
        )  # fmt: skip
    assert not (tmp_path / "m").exists()


def test_the_same_model_pushed_again_keeps_its_canary_label(tmp_path: Path) -> None:
    model, blessing = _model_and_blessing(tmp_path, blessed=True)
    base = tmp_path / "models"
    push.fn(model, blessing, PushedModel(tmp_path / "1"), name="m", base=base)
    (model.path / Model.ONNX_FILENAME).write_bytes(b"onnx 2")
    push.fn(model, blessing, PushedModel(tmp_path / "2"), name="m", base=base, canary_percent=5)
    again = PushedModel(tmp_path / "again")
    push.fn(model, blessing, again, name="m", base=base)  # e.g. a new baseline, same model
    assert (again.load().version, again.load().label) == (2, "canary")
    (entry,) = read_model_config(base / "models.yaml").models
    assert entry.labels == {"stable": 1, "canary": 2}
