"""The default training budget: epochs and patience counted in optimizer steps."""

from __future__ import annotations

import pytest

from shipyard.components.train.budget import (
    default_epochs,
    default_learning_rate,
    default_patience,
    resolve_budget,
    steps_per_epoch,
)


def test_default_epochs_aim_at_two_thousand_steps_on_any_size() -> None:
    # penguins: 271 rows are 2 steps of 256; the census: 22,478 rows are 88
    assert default_epochs(271, 256) == 1000 and default_patience(271, 256) == 50
    assert default_epochs(22_478, 256) == 23 and default_patience(22_478, 256) == 3
    assert default_epochs(10_000_000, 256) == 10  # at least 10 passes over large data
    assert default_epochs(5, 256) == 1000  # at most 1,000 over tiny data
    for rows in (271, 1_000, 5_634, 22_478):
        per_epoch = steps_per_epoch(rows, 256)
        steps = default_epochs(rows, 256) * per_epoch
        assert 2_000 <= steps < 2_000 + per_epoch, rows
        assert default_patience(rows, 256) * per_epoch >= 100


@pytest.mark.parametrize(
    ("estimator", "epochs", "patience", "expected"),
    [
        ("linear", None, "auto", (1000, 50)),
        ("dnn", 30, "auto", (30, 50)),
        ("boosted_trees", None, "auto", (1000, 10)),  # trees count rounds, not epochs
        ("dnn", None, None, (1000, None)),
        ("wide_deep", 5, 2, (5, 2)),
    ],
)
def test_resolve_budget_fills_only_what_was_left_to_default(
    estimator: str, epochs: int | None, patience: int | str | None, expected: tuple[int, ...]
) -> None:
    got = resolve_budget(271, 256, epochs=epochs, patience=patience, estimator=estimator)  # type: ignore[arg-type]
    assert got == expected


def test_default_learning_rates() -> None:
    assert default_learning_rate("linear") == 0.01
    assert default_learning_rate("dnn") == default_learning_rate("wide_deep") == 1e-3
    assert default_learning_rate("boosted_trees") == 0.1
