"""Train's estimators, loop and errors on tiny synthetic data (fast: no runner)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import torch
from safetensors.torch import load_file

from shipyard.artifacts import Examples, Model, ModelRun, TransformGraph
from shipyard.components import train
from shipyard.components.train.estimators import (
    DNN,
    FeatureSpec,
    Head,
    Linear,
    WideAndDeep,
    build_estimator,
    embedding_dim,
)
from shipyard.components.transform import scale_to_z_score, vocabulary
from shipyard.components.transform.apply import apply
from shipyard.components.transform.fit import build_outputs, fit
from shipyard.components.transform.onnx_export import export_onnx
from shipyard.errors import DataError, InvalidParameterError

FEATURES = [FeatureSpec("x", "float"), FeatureSpec("y", "float"), FeatureSpec("c", "id", 5)]


def inputs(rows: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(1)
    return (
        torch.randn(rows, 1, generator=generator),
        torch.randn(rows, 1, generator=generator),
        torch.randint(0, 5, (rows, 1), generator=generator),
    )


@pytest.mark.parametrize("estimator", ["linear", "dnn", "wide_deep"])
def test_estimators_return_one_score_per_output(estimator: Any) -> None:
    network = build_estimator(estimator, FEATURES, 3, hidden_units=[8, 4], batch_norm=True)
    assert network(*inputs(7)).shape == (7, 3)
    network.eval()
    class_ids, probabilities = Head(network, classification=True)(*inputs(4))
    assert class_ids.shape == (4,) and class_ids.dtype == torch.int64
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(4))
    (predictions,) = Head(network, classification=False, mean=10.0, std=2.0)(*inputs(4))
    assert predictions.shape == (4,)


def test_estimator_structure() -> None:
    assert embedding_dim(5) == 4 and embedding_dim(10_000) == 16 and embedding_dim(1) == 2
    assert isinstance(build_estimator("linear", FEATURES, 2, hidden_units=[]), Linear)
    dnn = build_estimator("dnn", FEATURES, 2, hidden_units=[8], dropout=0.5, activation="gelu")
    assert isinstance(dnn, DNN)
    assert dnn.embeddings[0].embedding_dim == embedding_dim(5)
    assert isinstance(build_estimator("wide_deep", FEATURES, 2, hidden_units=[8]), WideAndDeep)
    # ids past the vocabulary are clamped, not an index error
    ids_only = [FeatureSpec("c", "id", 3)]
    assert build_estimator("dnn", ids_only, 2, hidden_units=[4])(torch.tensor([[7]])).shape == (
        1,
        2,
    )


def toy(rows: int = 120, *, seed: int = 0, label: str = "class") -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    color = rng.choice(["red", "green", "blue"], size=rows)
    if label == "class":
        target: list[Any] = [
            "big" if v + (c == "red") > 0.3 else "small" for v, c in zip(x, color, strict=True)
        ]
    else:
        target = list(3 * x + 5 + rng.normal(scale=0.1, size=rows))
    return pa.table({"x": x, "color": color, "target": target})


def prepare(
    tmp_path: Path, train_table: pa.Table, eval_table: pa.Table | None = None
) -> tuple[Examples, TransformGraph]:
    string_label = pa.types.is_string(train_table.schema.field("target").type)

    def preprocessing(columns: Any) -> dict[str, Any]:
        outputs = {
            "x": scale_to_z_score(columns["x"]),
            "color": vocabulary(columns["color"]),
        }
        outputs["target"] = vocabulary(columns["target"]) if string_label else columns["target"]
        return outputs

    outputs = build_outputs(preprocessing, train_table, where="test")
    fitted = fit(outputs, train_table, label="target", path="test")
    graph = TransformGraph(tmp_path / "graph")
    graph.save((fitted.to_spec(), export_onnx(fitted).SerializeToString()))
    examples = Examples(tmp_path / "transformed")
    for split, table in (("train", train_table), ("eval", eval_table)):
        if table is None:
            continue
        examples.write_split(split, apply(fitted, table))
    return examples, graph


def run(
    tmp_path: Path, examples: Examples, graph: TransformGraph, name: str = "model", **options: Any
) -> Model:
    model = Model(tmp_path / name)
    train.fn(examples, graph, model, ModelRun(tmp_path / f"{name}-run"), **options)
    return model


def test_same_seed_same_weights(tmp_path: Path) -> None:
    examples, graph = prepare(tmp_path, toy(), toy(seed=1))
    options = {"hidden_units": (8,), "epochs": 2, "batch_size": 16}
    first = run(tmp_path, examples, graph, "a", seed=3, **options)
    second = run(tmp_path, examples, graph, "b", seed=3, **options)
    third = run(tmp_path, examples, graph, "c", seed=4, **options)
    a, b, c = (load_file(m.path / Model.WEIGHTS_FILENAME) for m in (first, second, third))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    assert any(not torch.equal(a[key], c[key]) for key in a)
    assert first.properties["history"] == second.properties["history"]
    json.dumps(first.properties, allow_nan=False)
    assert first.signature()["task"] == "binary"


def test_early_stopping_keeps_the_best_epoch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # eval labels are the opposite of train: the eval loss rises from the first epochs
    train_table = toy()
    flipped = toy(seed=1)
    flipped = flipped.set_column(
        2,
        "target",
        pa.array(["small" if v == "big" else "big" for v in flipped.column("target").to_pylist()]),
    )
    examples, graph = prepare(tmp_path, train_table, flipped)
    with caplog.at_level(logging.INFO, logger="shipyard.components.train"):
        model = run(
            tmp_path,
            examples,
            graph,
            hidden_units=(8,),
            epochs=50,
            batch_size=16,
            learning_rate=0.05,
            early_stopping_patience=2,
        )
    history = model.properties["history"]
    assert len(history) < 50
    card = model.card()
    assert card["training"]["stopped_early"] is True
    best = card["training"]["best_epoch"]
    assert model.properties["metrics"]["eval_loss"] == min(row["eval_loss"] for row in history)
    assert history[best - 1]["eval_loss"] == model.properties["metrics"]["eval_loss"]
    assert "early stopping at epoch" in caplog.text and "epoch 1/50" in caplog.text


def test_max_steps(tmp_path: Path) -> None:
    examples, graph = prepare(tmp_path, toy(), toy(seed=1))
    model = run(
        tmp_path, examples, graph, estimator="linear", epochs=10, batch_size=16, max_steps=3
    )
    assert model.properties["metrics"]["steps"] == 3
    assert len(model.properties["history"]) == 1


def test_divergence_is_a_clear_error(tmp_path: Path) -> None:
    table = toy(label="number")
    table = table.set_column(2, "target", pa.array([v * 1e30 for v in table.column(2).to_pylist()]))
    examples, graph = prepare(tmp_path, table)
    # a huge learning rate on a standardized label with SGD overflows
    with pytest.raises(
        DataError, match=r"training diverged at epoch \d+ step \d+: loss is"
    ) as info:
        run(
            tmp_path,
            examples,
            graph,
            optimizer="sgd",
            learning_rate=1e30,
            hidden_units=(8,),
            epochs=5,
        )
    assert "lower the learning rate" in str(info.value)


def test_one_class_label_is_a_clear_error(tmp_path: Path) -> None:
    table = toy().set_column(2, "target", pa.array(["big"] * 120))
    examples, graph = prepare(tmp_path, table)
    with pytest.raises(DataError, match="single class \\(big\\)"):
        run(tmp_path, examples, graph, epochs=1)


def test_nan_feature_is_named(tmp_path: Path) -> None:
    examples, graph = prepare(tmp_path, toy())
    table = examples.read("train")
    values = table.column("x").to_numpy().copy()
    values[5] = np.nan
    broken = Examples(tmp_path / "broken")
    broken.write_split("train", table.set_column(0, "x", pa.array(values)))
    with pytest.raises(DataError, match="column 'x'") as info:
        run(tmp_path, broken, graph, epochs=1)
    assert "row 5" in str(info.value) and "impute" in str(info.value)


def test_parameters_are_checked(tmp_path: Path) -> None:
    examples, graph = prepare(tmp_path, toy())
    with pytest.raises(InvalidParameterError, match=r"task='binary'.*3 classes"):
        run(tmp_path, examples, graph, task="binary", label="color", epochs=1)
    with pytest.raises(InvalidParameterError, match="no such output"):
        run(tmp_path, examples, graph, label="colour", epochs=1)
    # Parameter limits (epochs >= 1, patience 'auto', None or >= 1) are checked when the
    # pipeline is built: tests/components/train/test_train_options.py.
