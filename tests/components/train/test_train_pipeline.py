"""The train component in real runs: ingest -> statistics -> schema -> transform -> train."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
import pyarrow.csv as pacsv
import torch
from safetensors.torch import load_file

from shipyard import Pipeline
from shipyard.artifacts import Model
from shipyard.components import compute_statistics, infer_schema, ingest, train, transform
from shipyard.components.train.estimators import FeatureSpec, Head, build_estimator
from shipyard.components.transform.apply import apply
from shipyard.components.transform.fitted import FittedTransform
from tests.conftest import Workspace

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PENGUINS = EXAMPLES / "penguins" / "data" / "penguins.csv"
TAXI = EXAMPLES / "taxi" / "data" / "span-1" / "taxi.csv"


def pipeline(source: Path, label: str, name: str, **options: object) -> Pipeline:
    raw = ingest(source=str(source), splits={"train": 8, "eval": 2})
    stats = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=stats.outputs.statistics, label=label)
    prepared = transform(examples=raw.outputs.examples, schema=schema.outputs.schema)
    trained = train(
        transformed=prepared.outputs.transformed,
        transform_graph=prepared.outputs.transform_graph,
        schema=schema.outputs.schema,
        **options,  # type: ignore[arg-type]
    )
    return Pipeline(name, nodes=[trained])


def rebuild(model: Model) -> torch.nn.Module:
    """The training path: the canned estimator with the exported weights."""
    card = model.card()
    parameters = card["parameters"]
    network = build_estimator(
        parameters["estimator"],
        [FeatureSpec(**feature) for feature in card["features"]],
        len(card["classes"]),
        hidden_units=parameters["hidden_units"],
        activation=parameters["activation"],
        dropout=parameters["dropout"],
        batch_norm=parameters["batch_norm"],
    )
    network.load_state_dict(load_file(model.path / Model.WEIGHTS_FILENAME))
    return Head(network, classification=True).eval()


def test_penguins_dnn_reaches_high_accuracy_and_serving_equals_training(
    workspace: Workspace,
) -> None:
    result = workspace.run(
        pipeline(
            PENGUINS,
            "species",
            "penguins_train",
            estimator="dnn",
            epochs=30,
            hidden_units=[16, 8],
            batch_size=32,
            learning_rate=0.01,
        )
    )
    assert result.ok, [n.error for n in result.failed]
    model = result["train"].outputs["model"]
    assert isinstance(model, Model)
    assert sorted(model.files()) == [
        "model.onnx",
        "model_card.json",
        "model_card.md",
        "schema.yaml",
        "signature.json",
        "weights.safetensors",
    ]
    metrics = model.properties["metrics"]
    assert metrics["eval_accuracy"] >= 0.97, model.properties["history"]
    json.dumps(model.properties, allow_nan=False)
    assert len(model.properties["history"]) >= 1
    signature = model.signature()
    assert signature["task"] == "multiclass"
    assert signature["label_vocabulary"] == ["Adelie", "Gentoo", "Chinstrap"]
    assert "species" not in {i["name"] for i in signature["inputs"]}
    assert [o["name"] for o in signature["outputs"]] == [
        "class_ids",
        "probabilities",
        "class_labels",
    ]
    assert "species" not in (model.path / "schema.yaml").read_text()

    # The guard of docs/design/models.md: raw rows through model.onnx (ONNX Runtime) equal
    # the training path (TransformGraph apply + the PyTorch module).
    rows = pacsv.read_csv(PENGUINS)
    served = model.predict(rows.drop_columns(["species"]))
    graph = result["transform"].outputs["transform_graph"]
    fitted = FittedTransform.from_spec(graph.spec())
    head = rebuild(model)
    inputs = apply(fitted, rows, outputs=fitted.serving_outputs())
    tensors = tuple(
        torch.tensor(inputs.column(f["name"]).to_numpy().reshape(-1, 1))
        for f in model.card()["features"]
    )
    with torch.no_grad():
        class_ids, probabilities = head(*tensors)
    np.testing.assert_allclose(served["probabilities"], probabilities.numpy(), atol=1e-5)
    np.testing.assert_array_equal(served["class_ids"], class_ids.numpy())
    vocabulary = np.asarray(signature["label_vocabulary"], dtype=object)
    np.testing.assert_array_equal(served["class_labels"], vocabulary[served["class_ids"]])
    labels = rows.column("species").to_pylist()
    accuracy = float(np.mean(served["class_labels"] == np.asarray(labels, dtype=object)))
    assert accuracy >= 0.95
    # a dict of raw values, with missing values, works too
    one = model.predict(
        {
            "island": ["Biscoe", None],
            "bill_length_mm": [50.0, None],
            "bill_depth_mm": [15.0, None],
            "flipper_length_mm": [220.0, None],
            "body_mass_g": [5500.0, None],
            "sex": ["male", None],
            "year": [2008, 2009],
        }
    )
    assert one["class_labels"][0] == "Gentoo"
    assert one["probabilities"].shape == (2, 3)
    # the merged graph is one valid ONNX model with a dynamic batch
    onnx.checker.check_model(onnx.load_from_string(model.read_onnx()))
    assert "Metrics" in (model.path / "model_card.md").read_text()
    json.dumps(model.preview())


def test_penguins_regression_of_body_mass(workspace: Workspace) -> None:
    result = workspace.run(
        pipeline(
            PENGUINS,
            "body_mass_g",
            "penguins_mass",
            estimator="wide_deep",
            epochs=20,
            hidden_units=[16],
            batch_size=32,
            learning_rate=0.01,
        )
    )
    assert result.ok, [n.error for n in result.failed]
    model = result["train"].outputs["model"]
    assert model.signature()["task"] == "regression"
    rmse = model.properties["metrics"]["eval_rmse"]
    assert math.isfinite(rmse) and rmse < 500, model.properties["history"]
    rows = pacsv.read_csv(PENGUINS).slice(0, 20)
    predictions = model.predict(rows.drop_columns(["body_mass_g"]))["predictions"]
    assert predictions.shape == (20,)
    assert 2500 < float(np.nanmean(predictions)) < 6500


def test_taxi_binary_linear(workspace: Workspace) -> None:
    result = workspace.run(
        pipeline(TAXI, "tip", "taxi_tip", estimator="linear", epochs=3, learning_rate=0.05)
    )
    assert result.ok, [n.error for n in result.failed]
    model = result["train"].outputs["model"]
    signature = model.signature()
    assert signature["task"] == "binary"
    assert sorted(signature["label_vocabulary"]) == ["no", "yes"]
    metrics = model.properties["metrics"]
    assert metrics["eval_accuracy"] > 0.5
    served = model.predict(pacsv.read_csv(TAXI).slice(0, 50).drop_columns(["tip"]))
    assert served["probabilities"].shape == (50, 2)
    np.testing.assert_allclose(served["probabilities"].sum(axis=1), 1.0, atol=1e-5)
    assert set(served["class_labels"]) <= {"no", "yes"}


def test_linear_with_every_default_converges_on_penguins(workspace: Workspace) -> None:
    # epochs=10, patience 3 and 1e-3 (the old defaults) stopped at 20 steps and 0.34 accuracy
    result = workspace.run(pipeline(PENGUINS, "species", "penguins_linear", estimator="linear"))
    assert result.ok, [n.error for n in result.failed]
    model = result["train"].outputs["model"]
    assert isinstance(model, Model)
    card = model.card()
    parameters, training = card["parameters"], card["training"]
    rows = card["data"]["rows_train"]
    steps = -(-rows // 256)  # one epoch's optimizer steps at the default batch size
    assert parameters["epochs"] * steps >= 2_000  # the default budget, resolved and recorded
    assert parameters["early_stopping_patience"] * steps >= 100
    assert parameters["learning_rate"] == 0.01
    assert model.properties["metrics"]["eval_accuracy"] >= 0.97
    assert card["metrics"]["steps"] >= 500  # it trained far past the old 20 steps
    assert training["best_epoch"] <= card["metrics"]["epochs"]
