"""Bad input from data to blessed model: each case fails clearly or is handled as documented.

A label that does not exist, one class, a feature without a single value, infinite numbers,
a category at evaluation that training never saw. (Divergence, one-class labels and NaN in
transformed features are covered at the estimator level in test_train_estimators.py.)
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

from shipyard.dsl import Pipeline
from shipyard.pipelines import tabular_pipeline
from shipyard.runners import Run
from tests.conftest import Workspace

COLUMNS = ["x", "color", "empty", "label"]


def rows(
    count: int, *, seed: int = 0, colors: tuple[str, ...] = ("red", "green", "blue")
) -> list[list[Any]]:
    generator = random.Random(seed)
    made = []
    for _ in range(count):
        x = generator.gauss(0, 1)
        color = generator.choice(colors)
        made.append([x, color, "", "yes" if x + (color == "red") > 0.5 else "no"])
    return made


def write(path: Path, data: list[list[Any]]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        writer.writerows(data)
    return path


def pipeline(source: Path, *, label: str = "label") -> Pipeline:
    return tabular_pipeline(
        source.stem,
        source,
        label=label,
        estimator="dnn",
        train_options={"hidden_units": (8,), "epochs": 5, "learning_rate": 0.05, "batch_size": 32},
        on_anomaly="warn",
        push_to=source.parent / "models",
        max_regression={},
    )


def failure(result: Run) -> tuple[str, str]:
    assert not result.ok
    [node] = result.failed
    assert node.error is not None
    return node.name, str(node.error)


def test_a_label_that_does_not_exist_names_the_columns(workspace: Workspace) -> None:
    source = write(workspace.root / "data.csv", rows(200))
    node, message = failure(workspace.run(pipeline(source, label="labell")))
    assert node == "infer_schema"
    assert "labell" in message and "label" in message


def test_a_label_with_one_class_is_refused(workspace: Workspace) -> None:
    data = [[*row[:3], "yes"] for row in rows(200)]
    node, message = failure(workspace.run(pipeline(write(workspace.root / "one.csv", data))))
    assert node == "train"
    assert "column 'label'" in message and "a single class (yes)" in message


def test_a_feature_without_values_is_left_out_of_the_model(workspace: Workspace) -> None:
    result = workspace.run(pipeline(write(workspace.root / "empty.csv", rows(300))))
    assert result.ok, [n.error for n in result.failed]
    model = result["train"].outputs["model"]
    inputs = {i["name"]: i for i in model.signature()["inputs"]}
    assert set(inputs) == {"x", "color"}  # not "empty", and not the label
    assert inputs["x"]["optional"]
    predicted = model.predict({"x": [2.0, None], "color": ["red", None]})
    assert list(predicted["class_labels"][:1]) == ["yes"]


def test_infinite_numbers_name_the_file_row_and_column(workspace: Workspace) -> None:
    data = rows(200)
    for row in data:
        row[0] = "inf"
    node, message = failure(workspace.run(pipeline(write(workspace.root / "inf.csv", data))))
    assert node == "transform"
    assert "column 'x'" in message and "row 0" in message and "infinite values" in message


def test_a_category_unseen_in_training_is_scored_at_evaluation(workspace: Workspace) -> None:
    from shipyard.components import (
        compute_statistics,
        evaluate,
        infer_schema,
        ingest,
        train,
        transform,
    )

    train_file = write(workspace.root / "train.csv", rows(300, colors=("red", "green")))
    eval_file = write(workspace.root / "eval.csv", rows(100, seed=1, colors=("red", "purple")))
    raw = ingest(source={"train": str(train_file), "eval": str(eval_file)})
    stats = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=stats.outputs.statistics, label="label")
    prepared = transform(examples=raw.outputs.examples, schema=schema.outputs.schema)
    trained = train(
        transformed=prepared.outputs.transformed,
        transform_graph=prepared.outputs.transform_graph,
        hidden_units=(8,),
        epochs=20,
        learning_rate=0.05,
        batch_size=32,
    )
    checked = evaluate(
        examples=raw.outputs.examples, model=trained.outputs.model, slices=("color",)
    )
    result = workspace.run(Pipeline("unseen", nodes=[checked]))
    assert result.ok, [n.error for n in result.failed]
    evaluation = result["evaluate"].outputs["evaluation"].load()
    assert (
        evaluation.overall["count"] == 100 and evaluation.overall["excluded"]["unseen_label"] == 0
    )
    purple = next(s for s in evaluation.slices if s["name"] == "color=purple")
    assert purple["count"] > 0 and purple["metrics"]["accuracy"] >= 0.6  # x still decides
