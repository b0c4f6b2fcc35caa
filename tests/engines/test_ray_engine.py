"""The Ray engine against a real local Ray cluster (`ray start --head`, 2 CPUs): the engine
contract, resources, workers that die or are cancelled, and the install hint without Ray."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from typing import TYPE_CHECKING

import pytest

from shipyard.artifacts import Metrics
from shipyard.dsl.resources import Resources
from shipyard.engines import ComponentRef, TaskSpec, open_engine
from shipyard.errors import InvalidParameterError, PlatformError, PluginNotInstalled
from shipyard.testing import check_engine

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shipyard.engines.ray import RayEngine
    from shipyard.testing.ray import LocalRayCluster

# A user's pipeline file: the workers import its components by file and name.
COMPONENTS = """
import os
import time

from shipyard.artifacts import Metrics
from shipyard.dsl import Out, component
from shipyard.dsl.context import current_task


@component
def count_cpus(out: Out[Metrics]) -> None:
    import ray

    out.save({"cpus": ray.get_runtime_context().get_assigned_resources().get("CPU", 0.0)})
    out.properties["engine"] = current_task().engine


@component
def ignore_stop_requests(out: Out[Metrics]) -> None:
    time.sleep(120)
    out.save({"value": 0.0})


@component
def die(out: Out[Metrics]) -> None:
    os._exit(3)
"""


@pytest.fixture
def engine(ray_cluster: LocalRayCluster) -> Iterator[RayEngine]:
    from shipyard.engines.ray import RayEngine

    ray_engine = RayEngine(ray_cluster.address)
    yield ray_engine
    ray_engine.close()


def _task(tmp_path: Path, name: str, resources: Resources | None = None) -> TaskSpec:
    file = tmp_path / "components.py"
    file.write_text(COMPONENTS)
    (tmp_path / "scratch").mkdir(exist_ok=True)
    task = TaskSpec(
        node=name,
        component=ComponentRef(name=name, file=str(file)),
        inputs={},
        outputs={"out": ("Metrics", f"{tmp_path}/artifacts/p/run/{name}/out")},
        parameters={},
        run_id="run",
        artifact_root=str(tmp_path / "artifacts"),
        scratch_dir=str(tmp_path / "scratch"),
        resources=resources,
    )
    return TaskSpec.from_json(task.to_json())


def test_the_ray_engine_conforms(ray_cluster: LocalRayCluster) -> None:
    from shipyard.engines.ray import RayEngine

    engine = RayEngine(ray_cluster.address)
    assert engine.max_parallel == 2, "max_parallel is the cluster's CPUs"
    check_engine(engine)


def test_it_resolves_by_name_with_its_address(ray_cluster: LocalRayCluster) -> None:
    engine = open_engine("ray", address=ray_cluster.address, max_workers=1)
    assert engine.name == "ray" and engine.max_parallel == 1 and not engine.in_process
    engine.close()


def test_a_node_gets_the_cpus_it_declares(engine: RayEngine, tmp_path: Path) -> None:
    result = engine.submit(_task(tmp_path, "count_cpus", Resources(cpus=2))).result(60)
    assert result.ok, result.error
    assert Metrics(result.outputs["out"].uri).load() == {"cpus": 2.0}
    assert result.outputs["out"].properties["engine"] == "ray"


def test_a_node_no_node_of_the_cluster_can_hold_fails_at_once(
    engine: RayEngine, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = engine.submit(_task(tmp_path, "count_cpus", Resources(cpus=3))).result(10)
    assert time.monotonic() - started < 5
    assert isinstance(result.error, PlatformError) and not result.interrupted
    message = str(result.error)
    assert "'count_cpus'" in message and "3 CPUs" in message, message
    assert "largest offer 2 CPUs, 0 GPUs" in message, message
    result = engine.submit(_task(tmp_path, "count_cpus", Resources(gpus=1))).result(10)
    assert isinstance(result.error, PlatformError) and "1 GPU" in str(result.error)


def test_a_worker_that_dies_fails_its_node_naming_it(engine: RayEngine, tmp_path: Path) -> None:
    result = engine.submit(_task(tmp_path, "die")).result(60)
    assert isinstance(result.error, PlatformError) and not result.interrupted
    assert "node 'die'" in str(result.error) and "lost its worker" in str(result.error)
    assert not (tmp_path / "artifacts/p/run/die/out").exists()


def test_terminate_cancels_a_node_that_ignores_stop_requests(
    engine: RayEngine, tmp_path: Path
) -> None:
    future = engine.submit(_task(tmp_path, "ignore_stop_requests"), stop_requested=lambda: True)
    time.sleep(3)  # it started, and was asked to stop
    assert not future.done()
    started = time.monotonic()
    engine.terminate()
    result = future.result(30)
    assert time.monotonic() - started < 15
    assert result.interrupted and isinstance(result.error, PlatformError)
    assert "node 'ignore_stop_requests'" in str(result.error), result.error


def test_an_unknown_engine_option_names_it() -> None:
    with pytest.raises(InvalidParameterError, match="'threads' engine takes no option 'address'"):
        open_engine("threads", address="127.0.0.1:6379")


def test_without_ray_the_engine_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [
        m for m in sys.modules if m == "ray" or m.startswith(("ray.", "shipyard.engines.ray"))
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(PluginNotInstalled, match=r'pip install "shipyard\[ray\]"'):
        open_engine("ray")


def test_the_other_engines_never_import_ray() -> None:
    pytest.importorskip("ray")  # without Ray installed, the assertion below could not fail
    code = textwrap.dedent(
        """
        import sys
        from shipyard.engines import open_engine
        import shipyard.runners
        open_engine("threads").close()
        open_engine("processes").close()
        print(sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_the_channel_hands_a_tasks_messages_on_in_the_order_it_sent_them() -> None:
    """An async actor may run one caller's calls out of order (CI saw a progress report
    overtake an earlier one): the channel orders each task's messages by their numbers."""
    import asyncio

    from shipyard.engines.ray.remote import FINISHED, LOG, PROGRESS, Channel

    async def arrive_shuffled() -> list[tuple[int, str, object]]:
        channel = Channel()
        await channel.report(7, 1, {"done": 2})
        await channel.report(8, 0, {"done": 1})  # another task: its own numbers
        await channel.finish(7, 3)
        await channel.log(7, 2, {"message": "m"})
        first = await channel.take(0.0)
        await channel.report(7, 0, {"done": 1})
        return first + await channel.take(0.0)

    messages = asyncio.run(arrive_shuffled())
    assert messages == [
        (8, PROGRESS, {"done": 1}),
        (7, PROGRESS, {"done": 1}),
        (7, PROGRESS, {"done": 2}),
        (7, LOG, {"message": "m"}),
        (7, FINISHED, None),
    ]
