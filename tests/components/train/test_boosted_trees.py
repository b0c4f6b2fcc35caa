"""The boosted_trees estimator on real data: LightGBM, and ONNX Runtime on our converter."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import onnx
import onnxruntime as ort  # type: ignore[import-untyped]
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
import torch
from safetensors.numpy import load

from shipyard.artifacts import Model
from shipyard.artifacts.model import ExportedModel
from shipyard.components.train.boosted_trees import (
    TrainedTrees,
    TreesConfig,
    export_trees,
    features_matrix,
    fit_trees,
    trees_weights,
)
from shipyard.components.train.data import Problem, Split, describe_problem, to_tensors
from shipyard.components.train.export import compose, output_names, signature
from shipyard.components.train.loop import TrainingResult
from shipyard.components.train.tree_onnx import MODES, flatten, float32_at_most
from shipyard.components.transform import impute, vocabulary
from shipyard.components.transform.apply import apply
from shipyard.components.transform.fit import build_outputs, fit
from shipyard.components.transform.fitted import OUTPUT_PREFIX, FittedTransform
from shipyard.components.transform.onnx_export import export_onnx
from shipyard.errors import InvalidParameterError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PENGUINS = EXAMPLES / "penguins" / "data" / "penguins.csv"
TAXI = EXAMPLES / "taxi" / "data" / "span-1" / "taxi.csv"
FAST = TreesConfig(num_trees=40, threads=1)


@dataclass(frozen=True)
class Data:
    problem: Problem
    train: Split
    eval: Split
    fitted: FittedTransform
    raw_eval: pa.Table


def prepare(path: Path, label: str, outputs: dict[str, str]) -> Data:
    """Every 5th row is eval; `outputs` maps columns to `float` (median imputed) or `id`."""
    table = pacsv.read_csv(path)
    in_eval = pa.array(np.arange(table.num_rows) % 5 == 0)
    train_table, eval_table = table.filter(pc.invert(in_eval)), table.filter(in_eval)

    def preprocessing(columns: Any) -> dict[str, Any]:
        result = {
            name: vocabulary(columns[name]) if kind == "id" else impute(columns[name], "median")
            for name, kind in outputs.items()
        }
        labels = columns[label]
        result[label] = vocabulary(labels) if labels.kind == "string" else labels
        return result

    fitted = fit(build_outputs(preprocessing, train_table, where="test"), train_table, label=label)
    transformed = apply(fitted, train_table)
    problem = describe_problem(fitted, transformed, label=None, task="auto")
    return Data(
        problem,
        to_tensors(problem, transformed, split="train"),
        to_tensors(problem, apply(fitted, eval_table), split="eval"),
        fitted,
        eval_table,
    )


PENGUIN_FEATURES = {
    "island": "id",
    "sex": "id",
    "bill_length_mm": "float",
    "bill_depth_mm": "float",
    "flipper_length_mm": "float",
}


@pytest.fixture(scope="module")
def species() -> Data:
    return prepare(PENGUINS, "species", {**PENGUIN_FEATURES, "body_mass_g": "float"})


@pytest.fixture(scope="module")
def body_mass() -> Data:
    return prepare(PENGUINS, "body_mass_g", {**PENGUIN_FEATURES, "year": "float"})


@pytest.fixture(scope="module")
def tip() -> Data:
    columns = ["distance", "company", "local", "dow", "month", "hour"]
    kinds = {"distance": "float", "hour": "float"}
    return prepare(TAXI, "tip", {name: kinds.get(name, "id") for name in columns})


@pytest.fixture(scope="module")
def species_trees(species: Data) -> tuple[TrainedTrees, TrainingResult]:
    return fit_trees(species.problem, species.train, species.eval, FAST)


def run_onnx(model: onnx.ModelProto, problem: Problem, split: Split) -> dict[str, np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feeds = {
        OUTPUT_PREFIX + f.name: t.numpy()
        for f, t in zip(problem.features, split.features, strict=True)
    }
    names = output_names(problem)
    return dict(zip(names, session.run(names, feeds), strict=True))


def edge_rows(trees: TrainedTrees, problem: Problem, split: Split) -> Split:
    """Real rows moved onto every split: each float threshold and the float32 just above it,
    every category, an unseen id and NaN."""
    base = features_matrix(split)
    rows: list[np.ndarray] = []

    def put(feature: int, value: float) -> None:
        row = base[len(rows) % len(base)].copy()
        row[feature] = value
        rows.append(row)

    arrays = flatten(trees.model)
    for feature, mode, threshold in zip(
        arrays.feature_ids, arrays.modes, arrays.thresholds, strict=True
    ):
        if MODES[mode] == "BRANCH_LEQ":
            at = float32_at_most(threshold)
            put(feature, at)
            put(feature, float(np.nextafter(np.float32(at), np.float32(np.inf))))
    for index, spec in enumerate(problem.features):
        if spec.kind == "float":
            put(index, math.nan)
        else:
            for value in range(-1, spec.cardinality + 1):
                put(index, value)
    matrix = np.stack(rows)
    features = tuple(
        torch.from_numpy(
            matrix[:, [i]] if spec.kind == "float" else matrix[:, [i]].astype(np.int64)
        )
        for i, spec in enumerate(problem.features)
    )
    return Split(features, torch.zeros(len(rows)))


def assert_parity(trees: TrainedTrees, problem: Problem, split: Split) -> None:
    model = export_trees(trees, problem)
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == [OUTPUT_PREFIX + f.name for f in problem.features]
    assert [o.name for o in model.graph.output] == output_names(problem)
    for rows in (split, edge_rows(trees, problem, split)):
        served = run_onnx(model, problem, rows)
        expected = trees.predict(rows)
        if problem.task == "regression":
            assert served["predictions"].shape == (rows.rows,)
            np.testing.assert_allclose(served["predictions"], expected, rtol=1e-5, atol=1e-5)
        else:
            assert served["probabilities"].shape == (rows.rows, len(problem.classes))
            np.testing.assert_allclose(served["probabilities"], expected, rtol=0, atol=1e-5)
            assert served["class_ids"].dtype == np.int64
            np.testing.assert_array_equal(served["class_ids"], expected.argmax(axis=1))


def test_multiclass_penguins_is_accurate_and_onnx_equals_lightgbm(
    species: Data, species_trees: tuple[TrainedTrees, TrainingResult]
) -> None:
    trees, result = species_trees
    assert species.problem.task == "multiclass"
    assert result.metrics["eval_accuracy"] >= 0.97, result.history
    assert set(result.history[0]) == {
        "epoch",
        "train_loss",
        "eval_loss",
        "eval_accuracy",
        "learning_rate",
    }
    assert result.history[-1]["epoch"] == len(result.history) == result.steps
    assert result.metrics["epochs"] == trees.rounds == result.best_epoch
    assert len(trees.model["tree_info"]) == trees.rounds * 3
    # one category per categorical split
    assert any(MODES[mode] == "BRANCH_EQ" for mode in flatten(trees.model).modes)
    assert_parity(trees, species.problem, species.eval)


def test_composed_model_on_raw_rows_equals_lightgbm(
    tmp_path: Path, species: Data, species_trees: tuple[TrainedTrees, TrainingResult]
) -> None:
    # what component.py does: transform graph + trees in one model.onnx, weights beside it
    trees, result = species_trees
    merged = compose(
        export_onnx(species.fitted), export_trees(trees, species.problem), species.problem
    )
    model = Model(tmp_path / "model")
    model.save(
        ExportedModel(
            onnx=merged.SerializeToString(),
            weights=trees_weights(trees),
            signature=signature(merged, species.problem, set()),
            card={"name": "trees", "metrics": result.metrics},
        )
    )
    served = model.predict(species.raw_eval.drop_columns(["species"]))
    expected = trees.predict(species.eval)
    np.testing.assert_allclose(served["probabilities"], expected, rtol=0, atol=1e-5)
    labels = np.asarray(species.problem.classes, dtype=object)[expected.argmax(axis=1)]
    np.testing.assert_array_equal(served["class_labels"], labels)
    assert model.signature()["outputs"][0]["name"] == "class_ids"


def test_binary_taxi_onnx_equals_lightgbm(tip: Data) -> None:
    # the tip has a weak signal here: the eval loss is lowest after a few rounds, so keep
    # every round to export many trees
    config = TreesConfig(num_trees=40, early_stopping_patience=None, threads=1)
    trees, result = fit_trees(tip.problem, tip.train, tip.eval, config)
    assert tip.problem.task == "binary"
    assert trees.rounds == 40 == len(trees.model["tree_info"])
    majority = max(float(tip.eval.label.float().mean()), 1 - float(tip.eval.label.float().mean()))
    assert result.metrics["eval_accuracy"] >= majority - 0.01, result.history
    assert_parity(trees, tip.problem, tip.eval)


def test_regression_of_body_mass_onnx_equals_lightgbm(body_mass: Data) -> None:
    trees, result = fit_trees(body_mass.problem, body_mass.train, body_mass.eval, FAST)
    assert body_mass.problem.task == "regression"
    assert set(result.history[0]) == {
        "epoch",
        "train_loss",
        "eval_loss",
        "eval_rmse",
        "learning_rate",
    }
    assert result.metrics["eval_rmse"] < 400, result.history
    # eval_loss is the MSE on the standardized label, as in loop.evaluate
    predictions = trees.predict(body_mass.eval)
    error = predictions - body_mass.eval.label.numpy()
    assert math.isclose(
        result.metrics["eval_rmse"], float(np.sqrt(np.mean(error**2))), rel_tol=1e-6
    )
    assert math.isclose(
        result.metrics["eval_loss"],
        float(np.mean(error**2)) / body_mass.problem.label_std**2,
        rel_tol=1e-6,
    )
    assert_parity(trees, body_mass.problem, body_mass.eval)


def test_converter_handles_multi_category_splits_and_nan(tip: Data) -> None:
    # LightGBM's own many-vs-many categorical splits and NaN-aware splits, trained directly
    matrix = features_matrix(tip.train)
    distance = [f.name for f in tip.problem.features].index("distance")
    matrix[::7, distance] = np.nan
    categorical = [i for i, f in enumerate(tip.problem.features) if f.kind == "id"]
    params = {
        "objective": "binary",
        "max_cat_to_onehot": 1,
        "min_data_per_group": 5,
        "cat_smooth": 1.0,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 1,
        "verbosity": -1,
    }
    dataset = lightgbm.Dataset(matrix, tip.train.label.numpy(), categorical_feature=categorical)
    booster = lightgbm.train(params, dataset, num_boost_round=10)
    trees = TrainedTrees(booster.dump_model(), booster.model_to_string(), "binary", 10)
    splits = [node for tree in trees.model["tree_info"] for node in _splits(tree["tree_structure"])]
    assert any("||" in str(node["threshold"]) for node in splits)
    assert any(node["missing_type"] == "NaN" for node in splits)
    assert_parity(trees, tip.problem, tip.eval)


def _splits(node: dict[str, Any]) -> list[dict[str, Any]]:
    if "split_feature" not in node:
        return []
    return [node, *_splits(node["left_child"]), *_splits(node["right_child"])]


def test_a_constant_label_gives_one_single_leaf_tree(body_mass: Data) -> None:
    constant = Split(body_mass.train.features, torch.full_like(body_mass.train.label, 4000.0))
    config = TreesConfig(num_trees=5, early_stopping_patience=None, threads=1)
    trees, result = fit_trees(body_mass.problem, constant, None, config)
    assert len(result.history) == 5 and trees.rounds == 1 == result.metrics["epochs"]
    assert trees.model["tree_info"][0]["num_leaves"] == 1
    served = run_onnx(export_trees(trees, body_mass.problem), body_mass.problem, body_mass.eval)
    np.testing.assert_array_equal(served["predictions"], np.full(body_mass.eval.rows, 4000.0))


def test_same_seed_same_model(species: Data) -> None:
    first, a = fit_trees(species.problem, species.train, species.eval, FAST)
    second, b = fit_trees(species.problem, species.train, species.eval, FAST)
    assert first.text == second.text and first.model == second.model
    assert a.history == b.history
    assert trees_weights(first) == trees_weights(second)


def test_early_stopping_keeps_the_best_round(tip: Data) -> None:
    # eval labels are the opposite of train: the eval loss rises after the first rounds
    flipped = Split(tip.eval.features, 1 - tip.eval.label)
    config = TreesConfig(num_trees=200, early_stopping_patience=3, threads=1)
    seen: list[dict[str, float]] = []
    trees, result = fit_trees(
        tip.problem, tip.train, flipped, config, on_epoch=lambda row, _: seen.append(row)
    )
    history = result.history
    assert seen == history
    assert result.stopped_early
    assert len(history) == result.best_epoch + 3 < 200
    assert trees.rounds == result.best_epoch == result.metrics["epochs"]
    assert len(trees.model["tree_info"]) == trees.rounds
    best = min(row["eval_loss"] for row in history)
    assert result.metrics["eval_loss"] == best == history[result.best_epoch - 1]["eval_loss"]
    # the kept trees are the best round's: their eval log loss is the recorded one
    p = trees.predict(flipped)[:, 1]
    y = flipped.label.numpy()
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert math.isclose(loss, best, rel_tol=1e-6)


def test_without_eval_every_round_is_kept(species: Data) -> None:
    config = TreesConfig(num_trees=5, early_stopping_patience=None, threads=1)
    trees, result = fit_trees(species.problem, species.train, None, config)
    assert trees.rounds == 5 == len(result.history) == result.metrics["epochs"]
    assert set(result.metrics) == {"train_loss", "epochs", "steps"}
    assert not result.stopped_early


def test_weights_are_safetensors_of_the_node_arrays(
    species_trees: tuple[TrainedTrees, TrainingResult],
) -> None:
    trees, _ = species_trees
    data = trees_weights(trees)
    tensors = load(data)
    about = json.loads(header(data)["__metadata__"]["shipyard.boosted_trees"])
    assert about["modes"] == list(MODES) and about["n_targets"] == 3
    nodes = int(tensors["tree_ids"].shape[0])
    assert {t.shape[0] for k, t in tensors.items() if not k.startswith("leaf_")} == {nodes}
    leaves = int(np.sum(tensors["modes"] == MODES.index("LEAF")))
    assert tensors["leaf_values"].shape == (leaves,)
    assert set(tensors["leaf_targets"].tolist()) == {0, 1, 2}
    assert nodes == sum(2 * t["num_leaves"] - 1 for t in trees.model["tree_info"])


def header(data: bytes) -> dict[str, Any]:
    """The JSON header of a safetensors file."""
    size = int.from_bytes(data[:8], "little")
    result: dict[str, Any] = json.loads(data[8 : 8 + size])
    return result


def test_float32_thresholds_round_down() -> None:
    assert float32_at_most(0.5) == 0.5
    value = float32_at_most(0.1)
    assert value <= 0.1 and float(np.nextafter(np.float32(value), np.float32(1))) > 0.1
    assert float32_at_most(1e300) == float(np.finfo(np.float32).max)
    assert float32_at_most(-1e300) == -math.inf


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("num_trees", 0),
        ("learning_rate", 0.0),
        ("num_leaves", 1),
        ("max_depth", 0),
        ("min_data_in_leaf", 0),
        ("l2_regularization", -1.0),
        ("early_stopping_patience", 0),
        ("seed", -1),
        ("threads", 0),
    ],
)
def test_bad_config_names_the_parameter(name: str, value: Any) -> None:
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of train must be"):
        TreesConfig(**{name: value})
