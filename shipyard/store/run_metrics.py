"""Which metrics a run has: the rule the runners record and store migration 4 fills in."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["MAX_METRIC_NAME", "first_metrics"]

MAX_METRIC_NAME = 255
"""The longest metric name a store keeps (longer names are not recorded)."""


def first_metrics(documents: Iterable[object]) -> dict[str, float]:
    """Return each metric's first finite number among `documents`, in their order.

    Args:
        documents: The metric mappings of a run's output artifacts (`{"accuracy": 0.9}`), in
            the order they were registered; values that are not mappings are skipped, and so
            are booleans, non-numbers, NaN and infinities.

    Example:
        >>> first_metrics([{"accuracy": 0.9, "ok": True}, {"accuracy": 0.5, "auc": 1}])
        {'accuracy': 0.9, 'auc': 1.0}
    """
    metrics: dict[str, float] = {}
    for document in documents:
        if not isinstance(document, dict):
            continue
        for name, value in document.items():
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            if is_number and math.isfinite(value) and len(str(name)) <= MAX_METRIC_NAME:
                metrics.setdefault(str(name), float(value))
    return metrics
