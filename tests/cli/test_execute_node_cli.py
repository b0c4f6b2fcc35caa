"""`shipyard execute-node --task`: the entry point other engines and containers call."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shipyard.artifacts import Metrics
from shipyard.engines import ArtifactRef, ComponentRef, TaskResult, TaskSpec
from tests.cli.command import shipyard as run_shipyard
from tests.environment import CHECKOUT
from tests.runners.components import fail, source


def shipyard(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command, importing the test components (in `tests`) as a worker would."""
    return run_shipyard(cwd, *args, env={"PYTHONPATH": str(CHECKOUT)})


def task_file(tmp_path: Path, fn: object, parameters: dict[str, object]) -> tuple[Path, str]:
    uri = str(tmp_path / "artifacts" / "p" / "r" / "n" / "out")
    task = TaskSpec(
        node="n",
        component=ComponentRef.of(fn),  # type: ignore[arg-type]
        inputs={},
        outputs={"out": ("Metrics", uri)},
        parameters=parameters,
        run_id="r",
        artifact_root=str(tmp_path / "artifacts"),
        scratch_dir=str(tmp_path / "scratch"),
    )
    path = tmp_path / "task.json"
    path.write_text(task.to_json())
    return path, uri


def test_a_task_runs_and_publishes_its_outputs(tmp_path: Path) -> None:
    path, uri = task_file(tmp_path, source, {"value": 7.0})
    done = shipyard(tmp_path, "execute-node", "--task", str(path))
    assert done.returncode == 0, done.stderr
    result = TaskResult.from_json(done.stdout)
    assert result.ok and result.outputs["out"].uri == uri and result.outputs["out"].fingerprint
    assert Metrics(uri).load() == {"v": 7.0}


def test_a_failing_task_exits_1_with_its_result_written(tmp_path: Path) -> None:
    path, uri = task_file(tmp_path, fail, {"message": "nope"})
    inputs = TaskSpec.from_json(path.read_text())
    source_uri = str(tmp_path / "in")
    Metrics(source_uri).save({"v": 1.0})
    path.write_text(
        TaskSpec(
            **{**inputs.__dict__, "inputs": {"inp": ArtifactRef("Metrics", source_uri)}}
        ).to_json()
    )
    done = shipyard(tmp_path, "execute-node", "--task", str(path), "--result", "result.json")
    assert done.returncode == 1
    assert "Component failed" in done.stderr and "nope" in done.stderr
    result = TaskResult.from_json((tmp_path / "result.json").read_text())
    assert result.error is not None and "ValueError: nope" in result.error.user_traceback  # type: ignore[union-attr]
    assert not Path(uri).exists()


def test_bad_task_files_are_named(tmp_path: Path) -> None:
    missing = shipyard(tmp_path, "execute-node", "--task", "nothere.json")
    assert missing.returncode != 0 and "--task nothere.json: no such file" in missing.stderr
    (tmp_path / "bad.json").write_text('{"node": 1}')
    bad = shipyard(tmp_path, "execute-node", "--task", "bad.json")
    assert bad.returncode != 0 and "Not a task specification" in bad.stderr
    assert "Traceback" not in bad.stderr
