"""`train(workers=2)` on `--engine ray`: the ranks run as a Ray Train `TorchTrainer` on a real
local cluster (2 CPUs, `ray_cluster`), give the metrics of the local DDP launch, name a
failing rank, and stop on Ctrl-C and resume."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from shipyard.artifacts import Model
from shipyard.components.train.ray_trainer import ranks_use_gpus
from shipyard.errors import PlatformError
from shipyard.runners import Project
from shipyard.runners.execution import artifact_from_record
from tests.components.train.test_distributed_pipeline import OPTIONS
from tests.components.train.test_train_pipeline import PENGUINS, pipeline
from tests.runners.test_interrupts import saved_progress, shipyard, wait_for_checkpoint

if TYPE_CHECKING:
    from shipyard.runners import Run
    from shipyard.testing.ray import LocalRayCluster
    from tests.conftest import Workspace

CUSTOM = Path(__file__).parent / "custom"


def _on_ray(workspace: Workspace, cluster: LocalRayCluster, name: str, **options: Any) -> Run:
    return workspace.run(
        pipeline(PENGUINS, "species", name, **options),
        engine="ray",
        engine_options={"address": cluster.address},
        cache=False,  # the local launch's outputs may not stand in for these
    )


@pytest.mark.slow
def test_ray_train_gives_the_artifacts_and_metrics_of_the_local_launch(
    workspace: Workspace, ray_cluster: LocalRayCluster
) -> None:
    local = workspace.run(pipeline(PENGUINS, "species", "local", epochs=30, workers=2, **OPTIONS))
    on_ray = _on_ray(workspace, ray_cluster, "ray", epochs=30, workers=2, **OPTIONS)
    assert local.ok and on_ray.ok, [n.error for n in (*local.failed, *on_ray.failed)]
    assert on_ray["train"].state == "complete"
    ours, theirs = (run["train"].outputs["model"] for run in (on_ray, local))
    assert isinstance(ours, Model) and isinstance(theirs, Model)
    assert ours.card()["training"]["launcher"] == "ray_train"
    assert theirs.card()["training"]["launcher"] == "processes"
    assert ours.card()["training"]["workers"] == 2
    assert sorted(ours.files()) == sorted(theirs.files())
    # rank 0's epochs came back from the Ray Train worker to the node's recorder
    assert len(ours.properties["history"]) == len(theirs.properties["history"])
    # The tolerance of docs/training.md for a pipeline run of the DDP launch
    metrics, expected = ours.properties["metrics"], theirs.properties["metrics"]
    assert abs(metrics["eval_accuracy"] - expected["eval_accuracy"]) <= 0.02
    assert metrics["eval_loss"] == pytest.approx(expected["eval_loss"], rel=0.05)
    assert metrics["steps"] == expected["steps"]
    run_dir = on_ray["train"].outputs["model_run"].path
    assert any(run_dir.rglob("events.out.tfevents.*"))  # TensorBoard written by the driver


@pytest.mark.slow
def test_a_failing_rank_is_named_with_its_traceback(
    workspace: Workspace, ray_cluster: LocalRayCluster
) -> None:
    started = time.monotonic()
    failed = _on_ray(
        workspace,
        ray_cluster,
        "failing",
        workers=2,
        run_fn_file=CUSTOM / "failing_rank.py",
        run_fn="fails_on_rank_1",
    )
    assert not failed.ok
    # The error crossed from the Ray task as text (the engine's TaskResult JSON): the
    # rank, its exception and its traceback are in the message
    message = str(failed["train"].error)
    assert "WorkerFailed: training worker rank 1 of 2 raised RuntimeError" in message
    assert "rank 1 cannot read its shard" in message
    assert "failing_rank.py" in message  # the rank's own traceback
    assert time.monotonic() - started < 240  # rank 0, in a barrier, was stopped


@pytest.mark.slow
def test_a_rank_whose_process_dies_is_named(
    workspace: Workspace, ray_cluster: LocalRayCluster
) -> None:
    failed = _on_ray(
        workspace,
        ray_cluster,
        "dying",
        workers=2,
        run_fn_file=CUSTOM / "failing_rank.py",
        run_fn="exits_on_rank_1",
    )
    assert not failed.ok
    message = str(failed["train"].error)
    assert "WorkerFailed: training worker rank 1 of 2 (a Ray Train worker) failed" in message


@pytest.mark.parametrize(
    ("device", "offered", "expected"),
    [
        ("cpu", {"CPU": 2.0, "GPU": 2.0}, False),
        ("auto", {"CPU": 2.0}, False),
        ("auto", {"CPU": 2.0, "GPU": 2.0}, True),
        ("cuda", {"CPU": 4.0, "GPU": 2.0}, True),
    ],
)
def test_ranks_ask_for_gpus_when_the_device_and_the_cluster_say_so(
    device: str, offered: dict[str, float], expected: bool
) -> None:
    assert ranks_use_gpus(device, 2, "train", offered) is expected


def test_ranks_on_cuda_without_enough_gpus_are_refused_naming_the_node() -> None:
    with pytest.raises(PlatformError) as caught:
        ranks_use_gpus("cuda", 2, "fit_model", {"CPU": 8.0, "GPU": 1.0})
    assert str(caught.value).startswith(
        "Node 'fit_model' trains in 2 Ray Train workers, each asking for 1 CPU and 1 GPU; "
        "the Ray cluster offers too few: needs 2 GPUs (it has 1)."
    )


@pytest.mark.slow
def test_too_many_workers_for_the_cluster_are_refused_naming_the_node(
    workspace: Workspace, ray_cluster: LocalRayCluster
) -> None:
    failed = _on_ray(workspace, ray_cluster, "too_many", epochs=1, workers=3)
    assert not failed.ok
    message = str(failed["train"].error)
    assert "Node 'train' trains in 3 Ray Train workers" in message
    assert "needs 3 CPUs (it has 2)" in message


PIPELINE = f"""
from shipyard import Pipeline
from shipyard.components import compute_statistics, infer_schema, ingest, train, transform

def build() -> Pipeline:
    raw = ingest(source={str(PENGUINS)!r}, splits={{"train": 8, "eval": 2}})
    stats = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=stats.outputs.statistics, label="species")
    prepared = transform(examples=raw.outputs.examples, schema=schema.outputs.schema)
    trained = train(
        transformed=prepared.outputs.transformed,
        transform_graph=prepared.outputs.transform_graph,
        schema=schema.outputs.schema,
        epochs=300,
        batch_size=16,
        early_stopping_patience=None,
        workers=2,
    )
    return Pipeline("long", nodes=[trained])
"""


@pytest.mark.slow
def test_ctrl_c_reaches_every_rank_and_the_rerun_resumes(
    tmp_path: Path, ray_cluster: LocalRayCluster
) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    command = ("run", "pipeline.py", "--engine", "ray", "--address", ray_cluster.address)
    running = shipyard(tmp_path, *command)
    saved = wait_for_checkpoint(tmp_path, running, timeout_s=240)
    time.sleep(1.0)  # well inside the epochs
    running.send_signal(signal.SIGINT)
    interrupted_at = time.monotonic()
    _, err = running.communicate(timeout=120)
    stopped_after_s = time.monotonic() - interrupted_at
    assert running.returncode == 130, err
    assert "Interrupted: train stopped." in err, err
    assert stopped_after_s < 30, f"took {stopped_after_s:.1f} s to stop"
    progress = saved_progress(saved)
    assert 1 < progress["next_epoch"] < 300  # rank 0 checkpointed mid-training

    resumed = shipyard(tmp_path, *command)
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    with Project.open(cwd=tmp_path) as project:
        latest = project.store.list_runs()[0]
        [record] = [
            a for a in project.store.list_artifacts() if a.name == f"long/{latest.id}/train/model"
        ]
        model = artifact_from_record(record, project.storage)
        assert isinstance(model, Model)
        card = model.card()
    assert card["training"]["launcher"] == "ray_train"
    assert card["training"]["resumed_from_epoch"] == progress["next_epoch"] - 1
    assert card["metrics"]["epochs"] == 300
