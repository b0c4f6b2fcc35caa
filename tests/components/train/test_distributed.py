"""The training loop in a group of processes (DDP over gloo): launch, stop, failures, resume."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch

from shipyard.components.train import checkpoint
from shipyard.components.train.distributed import current_group, environment_group, share
from shipyard.components.train.launch import run_workers
from shipyard.components.train.loop import LoopConfig, TrainingResult, fit
from shipyard.dsl.context import TaskContext, current_task, running_task
from shipyard.errors import ExecutionInterrupted, InvalidParameterError, WorkerFailed
from tests.components.train.test_loop import EVAL, FEATURES, PROBLEM, TRAIN


def network() -> torch.nn.Module:
    """The loop tests' network without dropout, whose draws differ between 1 and 2 ranks."""
    from shipyard.components.train.estimators import build_estimator
    from shipyard.components.train.loop import seed_everything

    seed_everything(0)
    return build_estimator("dnn", FEATURES, 3, hidden_units=[16, 8])


CONFIG = LoopConfig(epochs=6, batch_size=32, learning_rate=0.05, early_stopping_patience=None)


class Recorder:
    """The launcher's recorder: what rank 0 relayed."""

    def __init__(self, tensorboard_dir: Path) -> None:
        self.tensorboard_dir = tensorboard_dir
        self.rows: list[dict[str, float]] = []
        self.resumed: list[int] = []

    def __call__(self, row: dict[str, float], result: TrainingResult) -> None:
        self.rows.append(row)
        self.resumed.append(result.resumed_from_epoch)


def train_rank(
    *, config: LoopConfig, fail_rank: int | None = None, recorder: Any
) -> dict[str, Any]:
    """A rank's training (module-level: spawn pickles it by name)."""
    from shipyard.components.train.distributed import joined

    with joined(config.device) as group:
        if group.rank == fail_rank:
            raise ZeroDivisionError("rank-specific failure")
        trained = network()
        result = fit(
            trained,
            PROBLEM,
            TRAIN,
            EVAL,
            config,
            checkpoint_dir=current_task().checkpoint_dir,
            on_epoch=recorder,
        )
        return {
            "rank": group.rank,
            "world": group.world_size,
            "result": result,
            "weights": {k: v.clone() for k, v in trained.state_dict().items()},
        }


def test_the_shares_of_a_batch_cover_it_and_weigh_to_its_mean() -> None:
    from shipyard.components.train.distributed import Group

    for rows in (1, 2, 7, 32):
        groups = [Group(rank, 3, rank, "cpu") for rank in range(3)]
        parts = [share(rows, group) for group in groups]
        covered = sorted(i for part, _ in parts for i in range(rows)[part])
        assert set(covered) == set(range(rows))
        counts = [len(range(rows)[part]) for part, _ in parts]
        # DDP averages the ranks' mean losses times their weights: every row then counts
        # 1 / rows, as in the whole batch's mean loss
        for (_, weight), count in zip(parts, counts, strict=True):
            assert weight / count / 3 == pytest.approx(1 / sum(counts))


def test_two_workers_train_like_one(tmp_path: Path) -> None:
    alone = fit(network(), PROBLEM, TRAIN, EVAL, CONFIG)
    recorder = Recorder(tmp_path / "tb")
    with running_task(TaskContext("train", tmp_path / "checkpoint")):
        trained = run_workers(2, train_rank, {"config": CONFIG}, recorder=recorder)
    assert (trained["rank"], trained["world"]) == (0, 2)
    result = trained["result"]
    assert [row["epoch"] for row in recorder.rows] == [1, 2, 3, 4, 5, 6]  # rank 0's, relayed
    assert result.steps == alone.steps == 6 * 10  # batch_size is the batch of both ranks
    # The same steps over the same rows, each rank's share weighted: the history of one
    # process, to float rounding (the sums are added in another order)
    for one, two in zip(alone.history, result.history, strict=True):
        assert two == pytest.approx(one, rel=1e-4)
    assert result.metrics == pytest.approx(alone.metrics, rel=1e-4)
    for name, tensor in network().state_dict().items():  # it trained: weights moved
        assert not torch.equal(trained["weights"][name], tensor)
    assert checkpoint.load(tmp_path / "checkpoint") is not None  # rank 0 checkpointed


def test_a_failing_rank_is_named_with_its_traceback_and_the_others_stop(
    tmp_path: Path,
) -> None:
    with (
        running_task(TaskContext("train", tmp_path)),
        pytest.raises(WorkerFailed, match=r"rank 1 of 2 raised ZeroDivisionError") as failed,
    ):
        run_workers(2, train_rank, {"config": CONFIG, "fail_rank": 1}, recorder=Recorder(tmp_path))
    assert failed.value.rank == 1
    assert "rank-specific failure" in failed.value.worker_traceback
    assert "in train_rank" in failed.value.worker_traceback
    assert isinstance(failed.value.__cause__, ZeroDivisionError)
    import multiprocessing

    assert not [p for p in multiprocessing.active_children() if "shipyard-train" in p.name]


@pytest.mark.slow
def test_a_stop_request_stops_every_rank_at_one_step_and_the_rerun_resumes(
    tmp_path: Path,
) -> None:
    config = LoopConfig(epochs=400, batch_size=32, early_stopping_patience=None)
    saved = tmp_path / "checkpoint"

    def after_a_checkpoint() -> bool:
        return (saved / checkpoint.FILENAME).exists()

    with (
        running_task(TaskContext("train", saved, stop_requested=after_a_checkpoint)),
        pytest.raises(ExecutionInterrupted, match=r"rank 0 of 2: training stopped at epoch"),
    ):
        run_workers(2, train_rank, {"config": config}, recorder=Recorder(tmp_path))
    state = checkpoint.load(saved)
    assert state is not None and 0 < state.state["steps"] < 400 * 10
    stopped_at = state.state["steps"]

    recorder = Recorder(tmp_path)
    with running_task(TaskContext("train", saved)):
        trained = run_workers(2, train_rank, {"config": config}, recorder=recorder)
    assert trained["result"].steps == 400 * 10
    assert recorder.resumed[0] == stopped_at // 10  # the epochs the stopped run finished
    assert len(trained["result"].history) == 400


def test_the_torchrun_environment_is_joined(tmp_path: Path) -> None:
    script = tmp_path / "ranks.py"
    script.write_text(
        textwrap.dedent(
            """
            import hashlib, sys
            from shipyard.components.train.distributed import joined
            from shipyard.components.train.loop import fit
            from tests.components.train.test_distributed import CONFIG
            from tests.components.train.test_distributed import network
            from tests.components.train.test_loop import EVAL, PROBLEM, TRAIN

            with joined("cpu") as group:
                trained = network()
                result = fit(trained, PROBLEM, TRAIN, EVAL, CONFIG)
            digest = hashlib.sha256(
                b"".join(t.numpy().tobytes() for t in trained.state_dict().values())
            ).hexdigest()
            print(f"rank {group.rank}/{group.world_size} steps {result.steps} {digest}")
            """
        )
    )
    root = Path(__file__).resolve().parents[3]
    environment = {
        **os.environ,
        "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            "2",
            "--standalone",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Found anywhere in the output: the two ranks share one stdout, so a line of one may follow
    # another's output on the same line.
    ranks = sorted(re.findall(r"rank (\d)/(\d) steps (\d+) ([0-9a-f]{64})", done.stdout))
    assert [rank[:3] for rank in ranks] == [("0", "2", "60"), ("1", "2", "60")], done.stdout
    assert ranks[0][3] == ranks[1][3]  # DDP kept the ranks' weights equal


def test_the_environment_contract_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert environment_group() is None and current_group() is None
    monkeypatch.setenv("MASTER_ADDR", "10.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29500")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert environment_group() == {"rank": 3, "world_size": 4, "local_rank": 3}
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert environment_group() == {"rank": 3, "world_size": 4, "local_rank": 1}
    monkeypatch.setenv("RANK", "three")
    with pytest.raises(InvalidParameterError, match="RANK='three'"):
        environment_group()
