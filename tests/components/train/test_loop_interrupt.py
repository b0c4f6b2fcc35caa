"""Ctrl-C in the middle of an epoch: the loop saves where it is, and the resume loses nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch

from shipyard.components.train import checkpoint
from shipyard.components.train.loop import LoopConfig, fit
from shipyard.dsl.context import TaskContext, running_task
from shipyard.errors import ExecutionInterrupted
from tests.components.train.test_loop import EVAL, PROBLEM, TRAIN, network

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

STEPS_PER_EPOCH = 10  # 300 rows in batches of 32


def stop_after(steps: int) -> Callable[[], bool]:
    """A stop flag that turns on once `steps` optimizer steps were taken (asked once a step)."""
    asked = 0

    def stop_requested() -> bool:
        nonlocal asked
        asked += 1
        return asked > steps

    return stop_requested


@pytest.mark.parametrize(
    ("steps", "patience"), [(0, None), (37, None), (37, 2), (STEPS_PER_EPOCH * 3, 2)]
)
def test_a_training_stopped_mid_epoch_resumes_to_the_uninterrupted_result(
    tmp_path: Path, steps: int, patience: int | None
) -> None:
    config = LoopConfig(
        epochs=6,
        batch_size=32,
        learning_rate=0.05,
        lr_schedule="cosine",
        warmup_steps=5,
        early_stopping_patience=patience,
        checkpoint_interval_s=1e9,  # no regular save after the first epoch: only the interrupt's
    )
    whole = network()
    expected = fit(whole, PROBLEM, TRAIN, EVAL, config)

    stopped = network()
    with (
        running_task(TaskContext("train", tmp_path, stop_requested=stop_after(steps))),
        pytest.raises(ExecutionInterrupted, match=rf"step {steps % STEPS_PER_EPOCH}\b"),
    ):
        fit(stopped, PROBLEM, TRAIN, EVAL, config, checkpoint_dir=tmp_path)
    saved = checkpoint.load(tmp_path)
    assert saved is not None
    assert saved.state["steps"] == steps
    assert saved.state["next_epoch"] == steps // STEPS_PER_EPOCH + 1
    assert saved.state["epoch_step"] == steps % STEPS_PER_EPOCH

    resumed_network = network()  # a new process starts from fresh weights
    resumed = fit(resumed_network, PROBLEM, TRAIN, EVAL, config, checkpoint_dir=tmp_path)
    assert resumed.history == expected.history
    assert resumed.steps == expected.steps and resumed.best_epoch == expected.best_epoch
    for name, tensor in whole.state_dict().items():
        torch.testing.assert_close(resumed_network.state_dict()[name], tensor, rtol=0, atol=0)


def test_without_a_checkpoint_directory_the_interrupt_still_stops_training() -> None:
    with (
        running_task(TaskContext("train", stop_requested=stop_after(3))),
        pytest.raises(ExecutionInterrupted, match="epoch 1, step 3"),
    ):
        fit(network(), PROBLEM, TRAIN, EVAL, LoopConfig(epochs=50, batch_size=32))


def test_check_interrupted_raises_only_once_a_stop_is_requested() -> None:
    requested = False
    context = TaskContext("slow", stop_requested=lambda: requested)
    context.check_interrupted()
    assert not context.interrupted
    requested = True
    assert context.interrupted
    with pytest.raises(ExecutionInterrupted, match="node 'slow' stopped"):
        context.check_interrupted()
    TaskContext().check_interrupted()  # outside a run: never interrupted
