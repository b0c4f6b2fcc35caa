"""compute_metrics: every metric against hand-computed values and textbook definitions."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from shipyard.components.evaluate import compute_metrics
from shipyard.components.evaluate.curves import average_precision, roc_auc
from shipyard.errors import DataError, InvalidParameterError

LABELS = [0, 0, 1, 1]
SCORES = [0.1, 0.4, 0.35, 0.8]


def test_binary_metrics_by_hand() -> None:
    result = compute_metrics(LABELS, probabilities=SCORES, task="binary")
    m = result["metrics"]
    # argmax at 0.5: predictions [0, 0, 0, 1]
    assert result["confusion_matrix"]["matrix"] == [[2, 0], [1, 1]]
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["precision"] == pytest.approx(1.0)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(2 / 3)
    # positives {0.35, 0.8} vs negatives {0.1, 0.4}: 3 of 4 pairs ordered
    assert m["auc"] == pytest.approx(0.75)
    # thresholds 0.8 (P=1, R=.5), 0.4 (P=.5), 0.35 (P=2/3, R=1)
    assert m["pr_auc"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    expected_log_loss = -(math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)) / 4
    assert m["log_loss"] == pytest.approx(expected_log_loss)
    assert result["undefined"] == {}
    assert result["count"] == 4
    assert result["class_labels"] == ["0", "1"]


def test_two_column_probabilities_equal_one_column() -> None:
    two = np.column_stack([1 - np.array(SCORES), SCORES])
    a = compute_metrics(LABELS, probabilities=SCORES, task="binary")
    b = compute_metrics(LABELS, probabilities=two, task="binary")
    assert a["metrics"] == pytest.approx(b["metrics"])


def test_auc_ties_count_half() -> None:
    positive = np.array([False, True, False, True])
    scores = np.array([0.5, 0.5, 0.2, 0.9])
    auc, reason = roc_auc(positive, scores)
    assert auc == pytest.approx(3.5 / 4) and reason == ""


def _pairwise_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    pos, neg = scores[positive], scores[~positive]
    wins = [1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg)]
    return sum(wins) / len(wins)


def _definition_ap(positive: np.ndarray, scores: np.ndarray) -> float:
    total, previous_recall = 0.0, 0.0
    for threshold in sorted(set(scores.tolist()), reverse=True):
        chosen = scores >= threshold
        precision = (chosen & positive).sum() / chosen.sum()
        recall = (chosen & positive).sum() / positive.sum()
        total += (recall - previous_recall) * precision
        previous_recall = recall
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_and_ap_match_textbook_definitions_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 8, size=60) / 8  # many ties
    positive = rng.random(60) < 0.4
    auc, _ = roc_auc(positive, scores)
    ap, _ = average_precision(positive, scores)
    assert auc == pytest.approx(_pairwise_auc(positive, scores))
    assert ap == pytest.approx(_definition_ap(positive, scores))


def test_multiclass_macro_and_weighted() -> None:
    labels = [0, 0, 0, 1, 2, 2]
    predictions = [0, 0, 1, 1, 2, 0]
    result = compute_metrics(labels, predictions, task="multiclass", class_labels=["a", "b", "c"])
    m = result["metrics"]
    assert result["confusion_matrix"] == {
        "labels": ["a", "b", "c"],
        "matrix": [[2, 1, 0], [0, 1, 0], [1, 0, 1]],
    }
    assert m["accuracy"] == pytest.approx(4 / 6)
    # precision a 2/3, b 1/2, c 1; recall a 2/3, b 1, c 1/2; support 3, 1, 2
    assert m["precision_macro"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert m["precision_weighted"] == pytest.approx((3 * 2 / 3 + 1 / 2 + 2 * 1) / 6)
    assert m["recall_macro"] == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)
    assert m["recall_weighted"] == pytest.approx(4 / 6)  # weighted recall is accuracy
    f1 = [2 / 3, 2 * 0.5 / 1.5, 2 * 0.5 / 1.5]
    assert m["f1_macro"] == pytest.approx(sum(f1) / 3)
    assert m["f1_weighted"] == pytest.approx((3 * f1[0] + f1[1] + 2 * f1[2]) / 6)
    assert result["per_class"]["b"] == {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1}
    # no probabilities: ranking metrics are null with a reason
    assert m["auc"] is None and "probabilities" in result["undefined"]["auc"]


def test_multiclass_one_vs_rest_auc() -> None:
    labels = np.array([0, 1, 2, 0, 1, 2])
    proba = np.array(
        [
            [0.7, 0.2, 0.1],
            [0.2, 0.5, 0.3],
            [0.1, 0.3, 0.6],
            [0.3, 0.4, 0.3],
            [0.5, 0.3, 0.2],
            [0.2, 0.2, 0.6],
        ]
    )
    result = compute_metrics(labels, probabilities=proba, task="multiclass")
    per_class = [_pairwise_auc(labels == c, proba[:, c]) for c in range(3)]
    assert result["metrics"]["auc"] == pytest.approx(np.mean(per_class))
    assert [result["per_class"][str(c)]["auc"] for c in range(3)] == pytest.approx(per_class)
    assert result["metrics"]["pr_auc"] is None
    assert result["calibration"]["buckets"]


def test_class_missing_from_labels_gives_null_auc_with_reason() -> None:
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    result = compute_metrics([0, 1, 0], probabilities=proba, task="multiclass")
    assert result["metrics"]["auc"] is None
    assert "'2'" in result["undefined"]["auc"]
    assert result["per_class"]["0"]["auc"] == pytest.approx(1.0)
    binary = compute_metrics([1, 1, 1], probabilities=[0.2, 0.6, 0.9], task="binary")
    assert binary["metrics"]["auc"] is None
    assert "no negative" in binary["undefined"]["auc"]
    assert binary["metrics"]["pr_auc"] == pytest.approx(1.0)
    assert binary["curves"]["roc"]["fpr"] == []


def test_calibration_buckets_and_ece() -> None:
    result = compute_metrics([0, 1, 0, 1], probabilities=[0.05, 0.15, 0.15, 0.95], task="binary")
    buckets = result["calibration"]["buckets"]
    assert [(b["lower"], b["count"]) for b in buckets] == [(0.0, 1), (0.1, 2), (0.9, 1)]
    assert buckets[1]["mean_predicted"] == pytest.approx(0.15)
    assert buckets[1]["observed"] == pytest.approx(0.5)
    ece = (1 * 0.05 + 2 * 0.35 + 1 * 0.05) / 4
    assert result["metrics"]["expected_calibration_error"] == pytest.approx(ece)


def test_curves_are_thinned_and_monotone() -> None:
    rng = np.random.default_rng(0)
    labels = rng.random(10_000) < 0.3
    scores = np.clip(labels * 0.3 + rng.random(10_000) * 0.7, 0, 1)
    result = compute_metrics(labels.astype(int), probabilities=scores, task="binary")
    roc, pr = result["curves"]["roc"], result["curves"]["pr"]
    assert len(roc["fpr"]) <= 101 and len(pr["recall"]) <= 101
    assert (roc["fpr"][0], roc["tpr"][0]) == (0.0, 0.0)
    assert (roc["fpr"][-1], roc["tpr"][-1]) == (1.0, 1.0)
    assert np.all(np.diff(roc["fpr"]) >= 0) and np.all(np.diff(roc["tpr"]) >= 0)
    thresholds = roc["thresholds"][1:]
    assert thresholds == sorted(thresholds, reverse=True)
    assert pr["recall"][-1] == 1.0 and pr["precision"][0] == 1.0


def test_regression_by_hand() -> None:
    result = compute_metrics([1, 2, 3, 4], [1.5, 2, 2, 5], task="regression")
    m = result["metrics"]
    # residuals (label - prediction): -0.5, 0, 1, -1
    assert m["rmse"] == pytest.approx(0.75)
    assert m["mae"] == pytest.approx(0.625)
    assert m["r2"] == pytest.approx(1 - 2.25 / 5)
    assert m["mean_error"] == pytest.approx(-0.125)
    residuals = result["residuals"]
    assert residuals["mean"] == pytest.approx(-0.125)
    assert residuals["std"] == pytest.approx(np.std([-0.5, 0, 1, -1]))
    assert residuals["quantiles"]["0.5"] == pytest.approx(-0.25)
    assert sum(residuals["histogram"]["counts"]) == 4
    assert len(residuals["histogram"]["edges"]) == 21


def test_regression_constant_labels_r2_undefined() -> None:
    result = compute_metrics([2.0, 2.0], [2.0, 2.0], task="regression")
    assert result["metrics"]["r2"] is None and "equal" in result["undefined"]["r2"]
    assert result["metrics"]["rmse"] == 0.0


def test_arrow_inputs() -> None:
    labels = pa.chunked_array([[0, 0], [1, 1]])
    proba = pa.array([[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]], pa.list_(pa.float64(), 2))
    result = compute_metrics(labels, probabilities=proba, task="binary")
    assert result["metrics"]["auc"] == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"labels": [], "predictions": [], "task": "regression"}, DataError, "empty"),
        ({"labels": [1, 2], "predictions": [1.0], "task": "regression"}, DataError, "has 1"),
        (
            {"labels": [1, 2, 3], "predictions": [1.0, np.nan, np.nan], "task": "regression"},
            DataError,
            "2 of 3 rows of predictions are NaN",
        ),
        (
            {"labels": [0, 1], "probabilities": [[0.5, 0.6], [0.5, 0.5]], "task": "binary"},
            DataError,
            "do not sum to 1 (first at row 0",
        ),
        ({"labels": [0, 3], "predictions": [0, 1], "task": "binary"}, DataError, "class ids"),
        (
            {"labels": [0, 1], "predictions": [0, 1], "task": "ranking"},
            InvalidParameterError,
            "'task' parameter of compute_metrics",
        ),
        (
            {"labels": [0, 1], "predictions": [0, 1], "task": "binary", "class_labels": ["a"]},
            InvalidParameterError,
            "class_labels",
        ),
        ({"labels": [0, 1], "task": "binary"}, InvalidParameterError, "predictions"),
    ],
)
def test_input_errors(kwargs: dict, error: type[Exception], message: str) -> None:
    labels = kwargs.pop("labels")
    with pytest.raises(error, match=None) as info:
        compute_metrics(labels, **kwargs)
    assert message in str(info.value)


def test_importing_the_package_imports_no_numpy() -> None:
    code = (
        "import sys, shipyard.components, shipyard.components.evaluate; "
        "assert 'numpy' not in sys.modules and 'pyarrow' not in sys.modules, 'eager'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_arrow_list_probabilities_of_unequal_length_or_null() -> None:
    ragged = pa.array([[0.5, 0.5], [1.0]])
    with pytest.raises(DataError, match="1 to 2 values"):
        compute_metrics([0, 1], probabilities=ragged, task="binary")
    with pytest.raises(DataError, match="1 rows of probabilities are null"):
        compute_metrics([0, 1], probabilities=pa.array([[0.5, 0.5], None]), task="binary")
    sliced = pa.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]], pa.list_(pa.float64(), 2))[1:]
    result = compute_metrics([1, 0], probabilities=sliced, task="binary")
    assert result["metrics"]["log_loss"] == pytest.approx(-(np.log(0.8) + np.log(0.3)) / 2)


@pytest.mark.parametrize("seed", range(6))
def test_macro_and_weighted_scores_equal_scikit_learn(seed: int) -> None:
    from sklearn.metrics import f1_score, precision_score, recall_score

    rng = np.random.default_rng(seed)
    rows = int(rng.integers(3, 40))
    # 5 classes in the vocabulary, of which "e" never occurs; labels come from a random
    # subset of a-d, so some classes are predicted but absent, or present but never predicted
    labels = rng.choice(rng.choice(4, size=int(rng.integers(1, 4)), replace=False), size=rows)
    predictions = np.where(rng.random(rows) < 0.6, labels, rng.integers(0, 4, rows))
    m = compute_metrics(labels, predictions, task="multiclass", class_labels=list("abcde"))[
        "metrics"
    ]
    for name, score in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        for average in ("macro", "weighted"):
            expected = score(labels, predictions, average=average, zero_division=0)
            assert m[f"{name}_{average}"] == pytest.approx(expected), (name, average)


def test_macro_scores_average_the_classes_present_only() -> None:
    # one class of three in the rows, every row right: a perfect score, not 1/3
    perfect = compute_metrics([2, 2, 2], [2, 2, 2], task="multiclass", class_labels=list("abc"))
    assert perfect["metrics"]["f1_macro"] == 1.0
    assert perfect["metrics"]["precision_macro"] == 1.0
    assert perfect["metrics"]["recall_macro"] == 1.0
    # a class predicted but absent from the labels counts: precision 0 for it
    wrong = compute_metrics([2, 2, 2], [2, 2, 0], task="multiclass", class_labels=list("abc"))
    assert wrong["metrics"]["precision_macro"] == pytest.approx((0 + 1) / 2)
    assert wrong["metrics"]["recall_macro"] == pytest.approx((0 + 2 / 3) / 2)
    # per-class detail still lists every class of the vocabulary
    assert set(wrong["per_class"]) == {"a", "b", "c"}
