"""Binary metrics are computed for the positive class, and equal scikit-learn's for it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from shipyard.components.evaluate.metrics import compute_metrics
from shipyard.components.evaluate.slices import slice_metrics
from shipyard.errors import InvalidParameterError


def scores(rows: int = 400, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Class ids (id 0 the more frequent) and noisy probabilities of class 1."""
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.3).astype(np.int64)
    p1 = np.clip(0.35 * y + rng.random(rows) * 0.65, 0.001, 0.999)
    return y, p1


def expected(y_true: np.ndarray, score: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "precision": skm.precision_score(y_true, predicted),
        "recall": skm.recall_score(y_true, predicted),
        "f1": skm.f1_score(y_true, predicted),
        "auc": skm.roc_auc_score(y_true, score),
        "pr_auc": skm.average_precision_score(y_true, score),
    }


@pytest.mark.parametrize(
    ("class_labels", "positive_id"),
    [
        (["yes", "no"], 0),  # frequency order put the positive class first
        (["no", "yes"], 1),
        (["Yes", "No"], 0),
        (["0", "1"], 1),
        (["60", "36"], 0),
    ],
)
def test_binary_metrics_equal_scikit_learn_for_the_positive_class(
    class_labels: list[str], positive_id: int
) -> None:
    y, p1 = scores()
    proba = np.column_stack([1 - p1, p1])
    result = compute_metrics(y, probabilities=proba, task="binary", class_labels=class_labels)
    assert result["positive_class"] == class_labels[positive_id]
    truth = (y == positive_id).astype(np.int64)
    predicted = (np.argmax(proba, axis=1) == positive_id).astype(np.int64)
    for name, value in expected(truth, proba[:, positive_id], predicted).items():
        assert result["metrics"][name] == pytest.approx(value, abs=1e-12), name
    assert result["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(1)))
    assert result["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, proba), abs=1e-9)
    fpr, tpr, _ = skm.roc_curve(truth, proba[:, positive_id])
    roc = result["curves"]["roc"]
    assert roc["fpr"][-1] == pytest.approx(fpr[-1]) and roc["tpr"][-1] == pytest.approx(tpr[-1])


def test_the_positive_class_can_be_named_by_name_or_id() -> None:
    y, p1 = scores(seed=5)
    proba = np.column_stack([1 - p1, p1])
    labels = ["no", "yes"]
    default = compute_metrics(y, probabilities=proba, task="binary", class_labels=labels)
    by_name = compute_metrics(
        y, probabilities=proba, task="binary", class_labels=labels, positive_class="no"
    )
    by_id = compute_metrics(
        y, probabilities=proba, task="binary", class_labels=labels, positive_class=0
    )
    assert by_name["positive_class"] == by_id["positive_class"] == "no"
    assert by_name["metrics"] == by_id["metrics"]
    assert by_name["metrics"]["recall"] == pytest.approx(skm.recall_score(y, p1 > 0.5, pos_label=0))
    assert by_name["metrics"]["recall"] != pytest.approx(default["metrics"]["recall"])
    # AUC is the same for either class; average precision is not
    assert by_name["metrics"]["auc"] == pytest.approx(default["metrics"]["auc"])
    assert by_name["metrics"]["pr_auc"] == pytest.approx(
        skm.average_precision_score(y == 0, 1 - p1)
    )
    with pytest.raises(InvalidParameterError, match="Did you mean 'yes'"):
        compute_metrics(
            y, probabilities=proba, task="binary", class_labels=labels, positive_class="yse"
        )
    with pytest.raises(InvalidParameterError, match="0, 1 or a class name"):
        compute_metrics(y, probabilities=proba, task="binary", positive_class=2)


def test_multiclass_results_have_no_positive_class() -> None:
    result = compute_metrics([0, 1, 2], predictions=[0, 1, 1], task="multiclass")
    assert "positive_class" not in result


def test_slices_use_the_same_positive_class() -> None:
    y, p1 = scores(seed=7)
    proba = np.column_stack([1 - p1, p1])
    group = np.where(np.arange(len(y)) % 2 == 0, "a", "b")
    entries = slice_metrics(
        {"group": group},
        y,
        probabilities=proba,
        task="binary",
        slices=["group"],
        class_labels=["yes", "no"],
    )
    for entry in entries:
        rows = group == entry["value"]
        truth = y[rows] == 0
        assert entry["metrics"]["recall"] == pytest.approx(
            skm.recall_score(truth, proba[rows].argmax(1) == 0)
        )
        assert entry["metrics"]["pr_auc"] == pytest.approx(
            skm.average_precision_score(truth, proba[rows, 0])
        )
