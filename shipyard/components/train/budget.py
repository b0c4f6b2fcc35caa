"""The default training budget of the canned estimators, counted in optimizer steps.

A fixed number of epochs suits no data size: 10 epochs are 20 steps of 256 rows on
penguins' 271 rows, where a linear model needs hundreds, and 880 on the census' 22,478
rows. So the defaults aim at a number of steps: `default_epochs` gives enough epochs for
about `TARGET_STEPS` steps, and `default_patience` stops early after about `PATIENCE_STEPS`
steps without a lower eval loss, keeping the best epoch. Boosted trees count rounds, as
LightGBM does: at most `num_trees`, stopping after `TREES_PATIENCE` rounds without a lower
eval loss. `benchmarks/model_quality.py` measures what these defaults reach against
scikit-learn and LightGBM on every shipped data set (`docs/benchmarks.md`).
"""

from __future__ import annotations

import math
from typing import Literal

TARGET_STEPS = 2_000
"""Optimizer steps the default number of epochs aims at."""
MIN_EPOCHS, MAX_EPOCHS = 10, 1_000
"""Bounds of the default number of epochs."""
PATIENCE_STEPS = 100
"""Steps without a lower eval loss after which training stops by default."""
MIN_PATIENCE = 3
"""The default patience in epochs is never lower."""
TREES_PATIENCE = 10
"""Boosting rounds without a lower eval loss that stop boosted trees by default."""
LEARNING_RATES = {"linear": 0.01, "boosted_trees": 0.1}
"""Default learning rates; other networks take `NETWORK_LEARNING_RATE`. The linear model
is convex and well conditioned on standardized inputs: at 1e-3 it needs 5x more steps."""
NETWORK_LEARNING_RATE = 1e-3


def steps_per_epoch(rows: int, batch_size: int) -> int:
    """The optimizer steps of one pass over `rows` rows (1 at least)."""
    return max(math.ceil(rows / batch_size), 1)


def default_epochs(rows: int, batch_size: int) -> int:
    """Epochs for about `TARGET_STEPS` optimizer steps, within `MIN_EPOCHS`..`MAX_EPOCHS`.

    Example:
        >>> default_epochs(271, 256), default_epochs(22_478, 256)
        (1000, 23)
    """
    wanted = math.ceil(TARGET_STEPS / steps_per_epoch(rows, batch_size))
    return min(max(wanted, MIN_EPOCHS), MAX_EPOCHS)


def default_patience(rows: int, batch_size: int) -> int:
    """Epochs that make about `PATIENCE_STEPS` optimizer steps, `MIN_PATIENCE` at least.

    Example:
        >>> default_patience(271, 256), default_patience(22_478, 256)
        (50, 3)
    """
    wanted = math.ceil(PATIENCE_STEPS / steps_per_epoch(rows, batch_size))
    return max(wanted, MIN_PATIENCE)


def default_learning_rate(estimator: str) -> float:
    """The learning rate (the shrinkage, for trees) `estimator` trains with by default."""
    return LEARNING_RATES.get(estimator, NETWORK_LEARNING_RATE)


def resolve_budget(
    rows: int,
    batch_size: int,
    *,
    epochs: int | None,
    patience: int | Literal["auto"] | None,
    estimator: str,
) -> tuple[int, int | None]:
    """Return the epochs and the early-stopping patience to train `rows` rows with.

    Args:
        rows: Rows of the train split.
        batch_size: Rows per optimizer step.
        epochs: The epochs asked for; None for `default_epochs`.
        patience: The patience asked for; `auto` for `default_patience` (networks) or
            `TREES_PATIENCE` (boosted trees); None for no early stopping.
        estimator: `linear`, `dnn`, `wide_deep`, `boosted_trees` or `custom`.

    Example:
        >>> resolve_budget(271, 256, epochs=None, patience="auto", estimator="linear")
        (1000, 50)
    """
    if epochs is None:
        epochs = default_epochs(rows, batch_size)
    if patience == "auto":
        trees = estimator == "boosted_trees"
        patience = TREES_PATIENCE if trees else default_patience(rows, batch_size)
    return epochs, patience
