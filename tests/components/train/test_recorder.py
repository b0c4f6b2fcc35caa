"""The epoch recorder's progress reports: what the live display shows of a training."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.components.train.loop import LoopConfig, TrainingResult, fit
from shipyard.components.train.recorder import EpochRecorder
from shipyard.dsl.context import Progress, TaskContext, running_task
from tests.components.train.test_loop import EVAL, PROBLEM, TRAIN, Crash, network


def _reports(directory: Path, config: LoopConfig, *, crash: int | None = None) -> list[Progress]:
    reports: list[Progress] = []
    with (
        running_task(TaskContext(node="train", on_progress=reports.append)),
        EpochRecorder(directory / "tensorboard", epochs=config.epochs) as recorder,
    ):

        def on_epoch(row: dict[str, float], result: TrainingResult) -> None:
            recorder(row, result)
            if row["epoch"] == crash:
                raise Crash

        fit(network(), PROBLEM, TRAIN, EVAL, config, checkpoint_dir=directory, on_epoch=on_epoch)
    return reports


def test_a_resumed_training_says_so_in_every_report(tmp_path: Path) -> None:
    config = LoopConfig(epochs=5, batch_size=32, checkpoint_interval_s=0)  # every epoch
    with pytest.raises(Crash):
        _reports(tmp_path / "first", config, crash=2)
    fresh = _reports(tmp_path / "other", config)
    assert [p.resumed_from for p in fresh] == [None] * 5
    assert "resumed" not in fresh[-1].describe()

    (tmp_path / "first").rename(tmp_path / "again")
    resumed = _reports(tmp_path / "again", config)
    assert [(p.done, p.total, p.resumed_from) for p in resumed] == [(3, 5, 2), (4, 5, 2), (5, 5, 2)]
    assert resumed[0].describe().startswith("epoch 3/5 · train_loss ")
    assert resumed[0].describe().endswith(" · resumed from epoch 2")
