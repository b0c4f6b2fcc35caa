from __future__ import annotations

import pytest

from shipyard import Resources
from shipyard.artifacts import Metrics
from shipyard.dsl import Out, component
from shipyard.engines import ComponentRef, TaskSpec
from shipyard.errors import InvalidParameterError


@component(resources=Resources(cpus=2, memory="4GiB"))
def heavy(out: Out[Metrics]) -> None:
    out.save({"v": 1.0})


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        (1024, 1024),
        ("512MiB", 512 * 2**20),
        ("4GiB", 4 * 2**30),
        ("2G", 2 * 10**9),
        ("1.5Gi", 3 * 2**29),
    ],
)
def test_memory_sizes_parse(memory: int | str, expected: int) -> None:
    assert Resources(memory=memory).memory_bytes == expected


@pytest.mark.parametrize("bad", [{"memory": "lots"}, {"cpus": -1}, {"gpus": True}, {"memory": -5}])
def test_bad_resources_name_the_field(bad: dict[str, object]) -> None:
    field = next(iter(bad))
    with pytest.raises(InvalidParameterError, match=f"Resources\\({field}="):
        Resources(**bad)  # type: ignore[arg-type]


def test_node_takes_the_component_resources_and_with_options_replaces_them() -> None:
    node = heavy()
    assert node.resources == Resources(cpus=2, memory="4GiB")
    node.with_options(resources=Resources(gpus=1))
    assert node.resources == Resources(gpus=1)


def test_resources_cross_in_the_task_json() -> None:
    task = TaskSpec(
        node="heavy",
        component=ComponentRef.of(heavy),
        inputs={},
        outputs={"out": ("Metrics", "/tmp/x")},
        parameters={},
        run_id="r",
        artifact_root="/tmp",
        scratch_dir="/tmp/s",
        resources=Resources(cpus=2, memory="4GiB"),
    )
    back = TaskSpec.from_json(task.to_json())
    assert back.resources is not None
    assert (back.resources.cpus, back.resources.memory_bytes) == (2, 4 * 2**30)
    assert back.component.local is None and back.component.resolve() is heavy
