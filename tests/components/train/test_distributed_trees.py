"""Boosted trees in 2 processes: LightGBM's data-parallel learner over its sockets."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shipyard.components.train.boosted_trees import TrainedTrees, TreesConfig, fit_trees
from shipyard.components.train.data import Problem, Split
from shipyard.components.train.launch import run_workers
from shipyard.components.train.loop import TrainingResult
from shipyard.dsl.context import TaskContext, running_task
from shipyard.errors import DataError, ExecutionInterrupted, WorkerFailed
from tests.components.train.test_boosted_trees import (
    EXAMPLES,
    FAST,
    PENGUIN_FEATURES,
    PENGUINS,
    Data,
    assert_parity,
    prepare,
)
from tests.components.train.test_distributed import Recorder

CENSUS = EXAMPLES / "census" / "data" / "census.csv"


@pytest.fixture(scope="module")
def species() -> Data:
    return prepare(PENGUINS, "species", {**PENGUIN_FEATURES, "body_mass_g": "float"})


@pytest.fixture(scope="module")
def body_mass() -> Data:
    return prepare(PENGUINS, "body_mass_g", {**PENGUIN_FEATURES, "year": "float"})


def trees_rank(
    *,
    problem: Problem,
    train: Split,
    evaluation: Split | None,
    config: TreesConfig,
    out: Path,
    kill_rank: int | None = None,
    recorder: Any,
) -> tuple[TrainedTrees, TrainingResult]:
    """A rank's training (module-level: spawn pickles it by name); each rank writes the
    rounds it saw and the model it grew to `out`."""
    from shipyard.components.train.distributed import joined

    with joined("cpu") as group:
        rounds = out / f"rank-{group.rank}.rounds"

        def on_epoch(row: dict[str, float], result: TrainingResult) -> None:
            with rounds.open("a") as file:
                file.write(f"{int(row['epoch'])} {row.get('eval_loss', row['train_loss'])!r}\n")
            if group.rank == kill_rank and row["epoch"] == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            recorder(row, result)

        trees, result = fit_trees(problem, train, evaluation, config, on_epoch=on_epoch)
        (out / f"rank-{group.rank}.txt").write_text(trees.text)
        return trees, result


def in_two(
    tmp_path: Path, data: Data, config: TreesConfig, **options: Any
) -> tuple[TrainedTrees, TrainingResult, Recorder]:
    recorder = Recorder(tmp_path / "tb")
    arguments = {
        "problem": data.problem,
        "train": data.train,
        "evaluation": data.eval,
        "config": config,
        "out": tmp_path,
        **options,
    }
    with running_task(TaskContext("train", tmp_path / "checkpoint")):
        trees, result = run_workers(2, trees_rank, arguments, recorder=recorder)
    return trees, result, recorder


def rounds_of(path: Path) -> list[tuple[int, float]]:
    return [(int(e), float(v)) for e, v in (line.split() for line in path.read_text().splitlines())]


def test_two_workers_grow_one_valid_model_as_good_as_one_worker(
    tmp_path: Path, species: Data
) -> None:
    alone, one = fit_trees(species.problem, species.train, species.eval, FAST)
    trees, two, recorder = in_two(tmp_path, species, FAST)
    # every rank grew the same trees and saw the same metrics, those of all rows
    grown = [(tmp_path / f"rank-{r}.txt").read_text().split("\nparameters:")[0] for r in (0, 1)]
    assert grown[0] == grown[1]  # the parameters that follow name each rank's own port
    assert rounds_of(tmp_path / "rank-0.rounds") == rounds_of(tmp_path / "rank-1.rounds")
    assert [row["epoch"] for row in recorder.rows] == [row["epoch"] for row in two.history]
    assert two.metrics["epochs"] == trees.rounds == two.best_epoch
    assert len(trees.model["tree_info"]) == trees.rounds * 3
    # the bins are found from each rank's half of the rows: the same model to a tolerance
    # (docs/training.md), not to the bit
    assert two.metrics["eval_accuracy"] >= one.metrics["eval_accuracy"] - 0.03
    assert two.metrics["eval_loss"] <= one.metrics["eval_loss"] + 0.05
    assert two.metrics["train_loss"] == pytest.approx(one.metrics["train_loss"], abs=0.02)
    assert alone.text != trees.text
    assert_parity(trees, species.problem, species.eval)  # ONNX gives LightGBM's predictions


@pytest.mark.slow
def test_regression_metrics_combine_over_the_ranks(tmp_path: Path, body_mass: Data) -> None:
    _, one = fit_trees(body_mass.problem, body_mass.train, body_mass.eval, FAST)
    trees, two, _ = in_two(tmp_path, body_mass, FAST)
    assert set(two.metrics) == set(one.metrics)
    assert two.metrics["eval_rmse"] == pytest.approx(one.metrics["eval_rmse"], rel=0.1)
    assert_parity(trees, body_mass.problem, body_mass.eval)


@pytest.mark.slow
def test_on_census_two_workers_give_the_metrics_of_one(tmp_path: Path) -> None:
    census = prepare(
        CENSUS,
        "high_wage",
        {
            "education": "float",
            "experience": "float",
            "ethnicity": "id",
            "smsa": "id",
            "region": "id",
            "parttime": "id",
        },
    )
    config = replace(FAST, num_trees=60)
    _, one = fit_trees(census.problem, census.train, census.eval, config)
    _, two, _ = in_two(tmp_path, census, config)
    # integer features: every rank finds the bins of one process, and the all-reduced
    # metrics are those of one process to float rounding, until the rounding decides a
    # near tie between two splits (round 20 here) and the ensembles part a little
    for a, b in zip(one.history[:10], two.history[:10], strict=True):
        assert b == pytest.approx(a, rel=1e-6)
    assert two.metrics["eval_accuracy"] == pytest.approx(one.metrics["eval_accuracy"], abs=0.005)
    assert two.metrics["eval_loss"] == pytest.approx(one.metrics["eval_loss"], rel=0.005)


def test_a_killed_rank_is_named_and_nothing_hangs(tmp_path: Path, species: Data) -> None:
    started = time.monotonic()
    with pytest.raises(WorkerFailed, match=r"rank 1 of 2 \(pid \d+\) was killed by SIGKILL"):
        in_two(tmp_path, species, replace(FAST, num_trees=400), kill_rank=1)
    assert time.monotonic() - started < 60
    assert not [p for p in multiprocessing.active_children() if "shipyard-train" in p.name]


def test_a_stop_request_stops_every_rank_after_the_same_round(
    tmp_path: Path, species: Data
) -> None:
    recorder = Recorder(tmp_path / "tb")
    config = replace(FAST, num_trees=2000, early_stopping_patience=None, learning_rate=0.01)
    arguments = {
        "problem": species.problem,
        "train": species.train,
        "evaluation": species.eval,
        "config": config,
        "out": tmp_path,
    }

    def after_five_rounds() -> bool:
        return len(recorder.rows) >= 5

    context = TaskContext("train", tmp_path, stop_requested=after_five_rounds)
    with (
        running_task(context),
        pytest.raises(ExecutionInterrupted, match=r"rank 0 of 2: node 'train' stopped"),
    ):
        run_workers(2, trees_rank, arguments, recorder=recorder)
    first, second = rounds_of(tmp_path / "rank-0.rounds"), rounds_of(tmp_path / "rank-1.rounds")
    assert first == second  # the same rounds, stopped after the same one
    assert 5 <= len(first) < 2000


def test_fewer_train_rows_than_workers_is_a_data_error(tmp_path: Path, species: Data) -> None:
    one_row = Split(tuple(f[:1] for f in species.train.features), species.train.label[:1])
    tiny = replace(species, train=one_row)
    with pytest.raises(DataError, match=r"rank \d of 2: the train split has 1 rows, fewer"):
        in_two(tmp_path, tiny, FAST)
