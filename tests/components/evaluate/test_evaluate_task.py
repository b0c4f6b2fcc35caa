"""Task and positive class through a real run: transform -> train -> evaluate, vs scikit-learn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn import metrics as skm

import shipyard
from shipyard import Pipeline
from shipyard.artifacts import Model
from shipyard.components import compute_statistics, evaluate, infer_schema, ingest, train, transform
from shipyard.components.labels import class_name

DATA = Path(__file__).resolve().parents[3] / "examples" / "taxi" / "data" / "chicago_taxi_tips.csv"
FAST = {"estimator": "linear", "epochs": 5, "learning_rate": 0.05, "batch_size": 64}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[shipyard.Run]:
    """Taxi rows twice: `tip` (yes/no, "yes" the more frequent) and `paid` (0/1), whose
    twin column `paid_copy` leaks it and is excluded."""
    root = tmp_path_factory.mktemp("tasks")
    table = pacsv.read_csv(DATA).slice(0, 1500)
    paid = pa.array([int(t == "yes") for t in table.column("tip").to_pylist()], pa.int64())
    numeric = table.drop_columns(["tip"]).append_column("paid", paid)
    pacsv.write_csv(table, root / "tips.csv")
    pacsv.write_csv(numeric.append_column("paid_copy", paid), root / "paid.csv")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for var in ("SHIPYARD_STORE", "SHIPYARD_ARTIFACT_ROOT", "SHIPYARD_HOME"):
            patch.delenv(var, raising=False)
        nodes: list[Any] = []
        previous: Any = None
        for name, label, options in (
            ("tips", "tip", {}),
            ("paid", "paid", {}),
            ("paid_zero", "paid", {"positive_class": "0"}),
        ):
            source = "tips" if name == "tips" else "paid"
            raw = ingest(source=str(root / f"{source}.csv")).with_options(name=f"ingest_{name}")
            stats = compute_statistics(examples=raw.outputs.examples).with_options(
                name=f"stats_{name}"
            )
            schema = infer_schema(statistics=stats.outputs.statistics, label=label).with_options(
                name=f"schema_{name}"
            )
            prepared = transform(
                examples=raw.outputs.examples,
                schema=schema.outputs.schema,
                exclude=("paid_copy",) if source == "paid" else (),
            ).with_options(name=f"transform_{name}")
            trained = train(
                transformed=prepared.outputs.transformed,
                transform_graph=prepared.outputs.transform_graph,
                **FAST,  # type: ignore[arg-type]
                **options,
            ).with_options(name=f"train_{name}")
            if previous is not None:  # torch.onnx.export is not thread-safe: one at a time
                trained = trained.after(previous)
            previous = trained
            nodes.append(
                evaluate(
                    examples=raw.outputs.examples, model=trained.outputs.model, slices=["dow"]
                ).with_options(name=f"evaluate_{name}")
            )
        result = shipyard.run(Pipeline("tasks", nodes=nodes), progress=False)
        assert result.ok, [n.error for n in result.failed]
        yield result


def reference(run: shipyard.Run, name: str, label: str) -> dict[str, Any]:
    """The model's own outputs on the raw eval split, scored by scikit-learn."""
    model = run[f"train_{name}"].outputs["model"]
    assert isinstance(model, Model)
    rows = run[f"ingest_{name}"].outputs["examples"].read("eval")  # type: ignore[attr-defined]
    out = model.predict(rows)
    classes = model.signature()["label_vocabulary"]
    positive = classes.index(model.signature()["positive_class"])
    truth = np.array([class_name(v) for v in rows.column(label).to_pylist()]) == classes[positive]
    proba = np.asarray(out["probabilities"], dtype=np.float64)
    predicted = np.asarray(out["class_ids"]).reshape(-1) == positive
    return {
        "precision": skm.precision_score(truth, predicted, zero_division=0),
        "recall": skm.recall_score(truth, predicted),
        "f1": skm.f1_score(truth, predicted, zero_division=0),
        "auc": skm.roc_auc_score(truth, proba[:, positive]),
        "pr_auc": skm.average_precision_score(truth, proba[:, positive]),
    }


@pytest.mark.parametrize(
    ("name", "label", "positive", "reason"),
    [
        ("tips", "tip", "yes", "'yes' reads as positive"),
        ("paid", "paid", "1", "'1' reads as positive"),
        ("paid_zero", "paid", "0", "named by positive_class"),
    ],
)
def test_evaluation_states_task_and_positive_class_and_matches_scikit_learn(
    run: shipyard.Run, name: str, label: str, positive: str, reason: str
) -> None:
    model = run[f"train_{name}"].outputs["model"]
    assert isinstance(model, Model)
    signature, card = model.signature(), model.card()
    assert signature["task"] == card["task"] == "binary"
    assert signature["positive_class"] == card["positive_class"] == positive
    assert signature["positive_class_reason"] == reason
    evaluation = run[f"evaluate_{name}"].outputs["evaluation"]
    result = evaluation.load()  # type: ignore[attr-defined]
    assert result.overall["task"] == "binary"
    assert result.overall["positive_class"] == positive
    assert result.overall["positive_class_reason"] == reason
    assert result.overall["task_reason"].startswith(f"inferred: {label!r} holds 2 ")
    assert evaluation.properties["positive_class"] == positive
    for metric, value in reference(run, name, label).items():
        assert result.metrics[metric] == pytest.approx(value, abs=1e-6), metric


def test_numeric_zero_one_label_is_classification_without_the_excluded_column(
    run: shipyard.Run,
) -> None:
    model = run["train_paid"].outputs["model"]
    assert isinstance(model, Model)
    signature = model.signature()
    assert signature["label_vocabulary"] == ["0", "1"]
    assert signature["task_reason"] == "inferred: 'paid' holds 2 distinct values (0, 1)"
    inputs = {item["name"] for item in signature["inputs"]}
    assert "paid_copy" not in inputs and {"distance", "company"} <= inputs
    assert "Positive class**: `1`" in (model.path / "model_card.md").read_text()
    assert run["evaluate_paid"].outputs["evaluation"].load().metrics["accuracy"] < 0.99  # type: ignore[attr-defined]
