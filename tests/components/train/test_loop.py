"""The training loop: schedules, mixed precision, checkpoints that resume to the same result."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from shipyard.components.train import checkpoint
from shipyard.components.train.data import Problem, Split
from shipyard.components.train.estimators import FeatureSpec, build_estimator
from shipyard.components.train.loop import LoopConfig, TrainingResult, fit, seed_everything
from shipyard.components.train.schedules import lr_factor

FEATURES = [FeatureSpec("x", "float"), FeatureSpec("y", "float"), FeatureSpec("c", "id", 5)]
PROBLEM = Problem(FEATURES, "label", "multiclass", ["a", "b", "c"])


def split(rows: int, seed: int) -> Split:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, 1, generator=generator)
    y = torch.randn(rows, 1, generator=generator)
    c = torch.randint(0, 5, (rows, 1), generator=generator)
    label = ((x[:, 0] > 0).long() + (y[:, 0] > 0.5).long()).clamp(max=2)
    return Split((x, y, c), label)


TRAIN, EVAL = split(300, 1), split(100, 2)


def network() -> torch.nn.Module:
    seed_everything(0)
    return build_estimator("dnn", FEATURES, 3, hidden_units=[16, 8], dropout=0.2)


class Crash(Exception):
    pass


def crash_after(epoch: int) -> object:
    def on_epoch(row: dict[str, float], result: TrainingResult) -> None:
        if row["epoch"] == epoch:
            raise Crash

    return on_epoch


@pytest.mark.parametrize(
    ("patience", "interval_s", "resumed_after"), [(None, 0.0, 3), (2, 0.0, 3), (2, 1e9, 1)]
)
def test_an_interrupted_training_resumes_to_the_uninterrupted_result(
    tmp_path: Path, patience: int | None, interval_s: float, resumed_after: int
) -> None:
    config = LoopConfig(
        epochs=8,
        batch_size=32,
        learning_rate=0.05,
        lr_schedule="cosine",
        warmup_steps=5,
        early_stopping_patience=patience,
        checkpoint_interval_s=interval_s,
    )
    whole = network()
    expected = fit(whole, PROBLEM, TRAIN, EVAL, config)

    interrupted = network()
    with pytest.raises(Crash):
        fit(
            interrupted,
            PROBLEM,
            TRAIN,
            EVAL,
            config,
            checkpoint_dir=tmp_path,
            on_epoch=crash_after(3),
        )
    assert (tmp_path / checkpoint.FILENAME).is_file()

    resumed_network = network()  # a new process would start from fresh weights
    resumed = fit(resumed_network, PROBLEM, TRAIN, EVAL, config, checkpoint_dir=tmp_path)
    # every epoch saved (interval 0), or only the first one within the interval
    assert resumed.resumed_from_epoch == resumed_after
    assert resumed.history == expected.history
    assert resumed.steps == expected.steps and resumed.best_epoch == expected.best_epoch
    for name, tensor in whole.state_dict().items():
        torch.testing.assert_close(resumed_network.state_dict()[name], tensor, rtol=0, atol=0)


def test_a_finished_checkpoint_is_not_trained_further(tmp_path: Path) -> None:
    config = LoopConfig(epochs=3, batch_size=64)
    first = fit(network(), PROBLEM, TRAIN, EVAL, config, checkpoint_dir=tmp_path)
    epochs: list[float] = []
    again = fit(
        network(),
        PROBLEM,
        TRAIN,
        EVAL,
        config,
        checkpoint_dir=tmp_path,
        on_epoch=lambda row, _: epochs.append(row["epoch"]),
    )
    assert epochs == [] and again.history == first.history


def test_a_checkpoint_of_another_configuration_is_ignored(tmp_path: Path) -> None:
    with pytest.raises(Crash):
        fit(
            network(),
            PROBLEM,
            TRAIN,
            EVAL,
            LoopConfig(epochs=5, batch_size=64),
            checkpoint_dir=tmp_path,
            on_epoch=crash_after(2),
        )
    other = fit(
        network(),
        PROBLEM,
        TRAIN,
        EVAL,
        LoopConfig(epochs=3, batch_size=32),
        checkpoint_dir=tmp_path,
    )
    assert other.resumed_from_epoch == 0 and len(other.history) == 3


def test_an_unreadable_checkpoint_starts_afresh(tmp_path: Path) -> None:
    (tmp_path / checkpoint.FILENAME).write_bytes(b"not a checkpoint")
    result = fit(network(), PROBLEM, TRAIN, EVAL, LoopConfig(epochs=2), checkpoint_dir=tmp_path)
    assert result.resumed_from_epoch == 0 and len(result.history) == 2


def test_schedules() -> None:
    cosine = lr_factor("cosine", total_steps=110, warmup_steps=10)
    assert [round(cosine(s), 3) for s in (0, 4, 9, 10, 60, 109)] == [0.1, 0.5, 1.0, 1.0, 0.5, 0.0]
    linear = lr_factor("linear", total_steps=100)
    assert [linear(s) for s in (0, 50, 100)] == [1.0, 0.5, 0.0]
    step = lr_factor("step", total_steps=100)
    assert [step(s) for s in (49, 50, 74, 75)] == [1.0, 0.1, 0.1, 0.01]
    assert lr_factor("constant", total_steps=10, warmup_steps=2)(0) == 0.5


def test_the_history_records_the_scheduled_learning_rate() -> None:
    config = LoopConfig(epochs=4, batch_size=300, learning_rate=0.1, lr_schedule="linear")
    result = fit(network(), PROBLEM, TRAIN, EVAL, config)  # one step per epoch
    assert [row["learning_rate"] for row in result.history] == pytest.approx(
        [0.1, 0.075, 0.05, 0.025]
    )
    assert "learning_rate" not in result.metrics


def test_mixed_precision_trains_on_cpu_with_bfloat16() -> None:
    config = LoopConfig(epochs=15, batch_size=32, learning_rate=0.01, early_stopping_patience=None)
    full = fit(network(), PROBLEM, TRAIN, EVAL, config)
    mixed = fit(
        network(), PROBLEM, TRAIN, EVAL, LoopConfig(**{**config.__dict__, "mixed_precision": True})
    )
    assert mixed.metrics["eval_accuracy"] >= 0.85
    assert abs(mixed.metrics["eval_loss"] - full.metrics["eval_loss"]) < 0.1
    assert mixed.history != full.history  # bfloat16 really was used
