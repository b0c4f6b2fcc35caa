"""`shipyard run --engine ray` runs the tutorial pipeline to the same artifacts and metrics."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

import shipyard
from tests.examples.test_examples import copy_example

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.runners import Run
    from shipyard.testing.ray import LocalRayCluster


def _run(folder: Path, tmp_path: Path, engine: str, **options: object) -> Run:
    result = shipyard.run(
        folder / "pipeline.py",
        store=f"sqlite:///{tmp_path / engine}.db",
        artifact_root=str(tmp_path / engine),
        engine=engine,
        engine_options=options,
        progress=False,
    )
    assert result.ok, {name: node.error for name, node in result.nodes.items() if node.error}
    return result


def _fingerprints(result: Run) -> dict[str, str | None]:
    return {
        f"{name}/{port}": artifact.fingerprint
        for name, node in result.nodes.items()
        for port, artifact in node.outputs.items()
    }


@pytest.mark.slow
def test_penguins_on_ray_gives_the_artifacts_and_metrics_of_threads(
    ray_cluster: LocalRayCluster, tmp_path: Path
) -> None:
    folder = copy_example("penguins", tmp_path)
    local = _run(folder, tmp_path, "threads")
    on_ray = _run(folder, tmp_path, "ray", address=ray_cluster.address)
    assert {n.state for n in on_ray.nodes.values()} == {"complete"}, "nothing came from a cache"
    data = {"ingest/examples", "import_schema/schema", "compute_statistics/statistics"}
    data |= {key for key in _fingerprints(local) if key.startswith(("validate", "transform"))}
    assert len(data) >= 5, sorted(_fingerprints(local))
    ray_fingerprints = _fingerprints(on_ray)
    assert {key: ray_fingerprints[key] for key in data} == {
        key: _fingerprints(local)[key] for key in data
    }, "data outputs must be the same bytes"
    # The model's bytes may differ in the last bits: Ray gives a task as many BLAS threads as
    # CPUs it asked for (one), which changes the order of float sums. The metrics may not.
    ours, theirs = _overall(on_ray), _overall(local)
    assert ours["confusion_matrix"] == theirs["confusion_matrix"]
    floats = {k: v for k, v in theirs["metrics"].items() if isinstance(v, float)}
    assert {k: ours["metrics"][k] for k in floats} == pytest.approx(floats, rel=1e-3)


def _overall(result: Run) -> dict[str, Any]:
    evaluation = result.nodes["evaluate"].outputs["evaluation"]
    overall: dict[str, Any] = json.loads((evaluation.path / "evaluation.json").read_text())[
        "overall"
    ]
    return overall
