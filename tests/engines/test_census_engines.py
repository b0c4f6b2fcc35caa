"""The census example on every engine: the same artifacts and metrics as the default."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import shipyard
from tests.engines.test_ray_pipeline import _fingerprints, _overall
from tests.examples.test_examples import copy_example

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Run
    from shipyard.testing.ray import LocalRayCluster


def _census(tmp_path: Path, engine: str, **options: object) -> Run:
    home = tmp_path / engine  # its own models/ folder to push to
    folder = copy_example("census", home)
    result = shipyard.run(
        folder / "pipeline.py",
        params={"epochs": 2},
        store=f"sqlite:///{home / 'store.db'}",
        artifact_root=str(home / "artifacts"),
        engine=engine,
        engine_options=options,
        progress=False,
    )
    assert result.ok, {name: node.error for name, node in result.nodes.items() if node.error}
    assert {n.state for n in result.nodes.values()} == {"complete"}, "nothing from a cache"
    return result


@pytest.mark.slow
def test_census_on_processes_and_ray_gives_the_artifacts_and_metrics_of_threads(
    ray_cluster: LocalRayCluster, tmp_path: Path
) -> None:
    threads = _census(tmp_path, "threads")
    processes = _census(tmp_path, "processes")
    on_ray = _census(tmp_path, "ray", address=ray_cluster.address)
    expected = _fingerprints(threads)
    # The data outputs are the same bytes on every engine. A model's files record when and
    # where it was trained, so models are compared by their metrics.
    data = {key for key in expected if not key.startswith(("train", "evaluate", "push"))}
    assert len(data) >= 5, sorted(expected)
    for result in (processes, on_ray):
        found = _fingerprints(result)
        assert {key: found[key] for key in data} == {key: expected[key] for key in data}
    theirs = _overall(threads)
    floats = {k: v for k, v in theirs["metrics"].items() if isinstance(v, float)}
    # Processes train exactly as threads do, in another process.
    assert _overall(processes)["metrics"] == theirs["metrics"]
    # On Ray a task gets one BLAS thread per CPU it asked for, which changes the order of the
    # training's float sums: the metrics are close, not equal.
    ours = _overall(on_ray)
    assert {k: ours["metrics"][k] for k in floats} == pytest.approx(floats, rel=0.02, abs=0.01)
