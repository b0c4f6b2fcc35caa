"""A sample of (actual, predicted) pairs for the regression report's scatter plots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MAX_POINTS = 500
"""Enough points to see a pattern; few enough to keep `evaluation.json` and the page small."""


def sample_points(
    labels: NDArray[np.float64],
    predictions: NDArray[np.float64],
    *,
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> dict[str, Any]:
    """Return up to `max_points` (actual, predicted) pairs, a uniform sample in row order.

    The sample is the same for the same rows (a fixed `seed`), so reruns write the same
    evaluation.

    Returns:
        `{"actual": [...], "predicted": [...], "rows": number of rows sampled from}`.

    Example:
        >>> sample_points(np.array([1.0, 2.0]), np.array([1.5, 1.5]))["predicted"]
        [1.5, 1.5]
    """
    import numpy as np

    rows = len(labels)
    index = np.arange(rows)
    if rows > max_points:
        index = np.sort(np.random.default_rng(seed).choice(rows, max_points, replace=False))
    return {
        "actual": [float(v) for v in labels[index]],
        "predicted": [float(v) for v in predictions[index]],
        "rows": rows,
    }
