"""Ranking and calibration metrics of scores against binary outcomes, vectorized.

AUC is the Mann-Whitney statistic on average ranks: the probability that a random positive
scores above a random negative, a tie counting 1/2, exactly. Average precision and the
curves step through the distinct scores, so tied examples enter together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

MAX_CURVE_POINTS = 101
CALIBRATION_BUCKETS = 10


def roc_auc(positive: NDArray[np.bool_], scores: NDArray[np.float64]) -> tuple[float | None, str]:
    """Return the area under the ROC curve, or None and why it is undefined."""
    reason = _one_sided(positive)
    if reason:
        return None, reason
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2  # 1-based rank, averaged over ties
    ranks = average_rank[inverse.reshape(-1)]
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)), ""


def average_precision(
    positive: NDArray[np.bool_], scores: NDArray[np.float64]
) -> tuple[float | None, str]:
    """Return the average precision (area under the PR curve), or None and why."""
    if not positive.any():
        return None, "undefined: the labels contain no positive example"
    tps, fps, _ = _cumulative(positive, scores)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision)), ""


def roc_curve(positive: NDArray[np.bool_], scores: NDArray[np.float64]) -> dict[str, Any]:
    """Return ROC points `fpr`, `tpr` by decreasing `thresholds` (at most ~100 points).

    The first point, (0, 0), has threshold None: nothing is predicted positive.
    """
    if _one_sided(positive):
        return {"fpr": [], "tpr": [], "thresholds": []}
    tps, fps, thresholds = _cumulative(positive, scores)
    keep = _thin(len(tps))
    return {
        "fpr": [0.0, *(fps[keep] / fps[-1]).tolist()],
        "tpr": [0.0, *(tps[keep] / tps[-1]).tolist()],
        "thresholds": [None, *thresholds[keep].tolist()],
    }


def pr_curve(positive: NDArray[np.bool_], scores: NDArray[np.float64]) -> dict[str, Any]:
    """Return precision-recall points by decreasing `thresholds` (at most ~100 points).

    The first point, recall 0 and precision 1, has threshold None.
    """
    if not positive.any():
        return {"precision": [], "recall": [], "thresholds": []}
    tps, fps, thresholds = _cumulative(positive, scores)
    keep = _thin(len(tps))
    return {
        "precision": [1.0, *(tps[keep] / (tps[keep] + fps[keep])).tolist()],
        "recall": [0.0, *(tps[keep] / tps[-1]).tolist()],
        "thresholds": [None, *thresholds[keep].tolist()],
    }


def calibration(
    predicted: NDArray[np.float64],
    observed: NDArray[np.float64],
    *,
    buckets: int = CALIBRATION_BUCKETS,
) -> dict[str, Any]:
    """Compare mean predicted probability with the observed rate in equal-width buckets.

    Args:
        predicted: Probabilities in [0, 1].
        observed: 1.0 where the predicted event happened, else 0.0.
        buckets: How many buckets split [0, 1].

    Returns:
        `{"buckets": [{"lower", "upper", "count", "mean_predicted", "observed"}],
        "expected_calibration_error"}`, empty buckets left out. The expected calibration
        error is the count-weighted mean of |mean predicted - observed|.
    """
    index = np.clip(np.floor(predicted * buckets).astype(np.int64), 0, buckets - 1)
    counts = np.bincount(index, minlength=buckets)
    predicted_sum = np.bincount(index, weights=predicted, minlength=buckets)
    observed_sum = np.bincount(index, weights=observed, minlength=buckets)
    ece = float(np.abs(predicted_sum - observed_sum).sum() / len(predicted))
    return {
        "buckets": [
            {
                "lower": i / buckets,
                "upper": (i + 1) / buckets,
                "count": int(counts[i]),
                "mean_predicted": float(predicted_sum[i] / counts[i]),
                "observed": float(observed_sum[i] / counts[i]),
            }
            for i in np.flatnonzero(counts)
        ],
        "expected_calibration_error": ece,
    }


def _one_sided(positive: NDArray[np.bool_]) -> str:
    if positive.all():
        return "undefined: the labels contain no negative example"
    if not positive.any():
        return "undefined: the labels contain no positive example"
    return ""


def _cumulative(
    positive: NDArray[np.bool_], scores: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """True and false positives when predicting positive at each distinct score, descending."""
    order = np.argsort(-scores, kind="mergesort")
    ordered = scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    tps = np.cumsum(positive[order])[last_of_tie].astype(np.float64)
    fps = (last_of_tie + 1) - tps
    return tps, fps, ordered[last_of_tie]


def _thin(count: int, max_points: int = MAX_CURVE_POINTS - 1) -> NDArray[np.int64]:
    """Indices of at most `max_points` points, evenly spread, the last one included."""
    if count <= max_points:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, max_points)).astype(np.int64))
