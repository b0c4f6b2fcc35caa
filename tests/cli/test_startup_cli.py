"""The `shipyard` command collects no garbage while it starts, and as usual once its work
starts: a run's nodes and every other command's body run with the collector on."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.cli.command import shipyard

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

PIPELINE = """
import gc
import json
from pathlib import Path

from shipyard import Out, Pipeline, component
from shipyard.artifacts import Artifact

SEEN = {"loading": gc.isenabled()}  # the pipeline file loads during the start-up


@component(cache=False)
def note(out: Out[Artifact]) -> None:
    SEEN["node"] = gc.isenabled()
    SEEN["frozen"] = gc.get_freeze_count()
    Path(__file__).with_name("seen.json").write_text(json.dumps(SEEN))
    (out.path / "done").write_text("")


def pipeline() -> Pipeline:
    return Pipeline("gc", nodes=[note()])
"""

_AT_EXIT = """
import atexit, gc, json, os

def _record():
    with open(os.environ["SHIPYARD_TEST_GC"], "w") as out:
        json.dump([gc.isenabled(), gc.get_freeze_count()], out)

atexit.register(_record)
"""


def test_a_run_starts_without_collections_and_its_nodes_run_with_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    done = shipyard(tmp_path, "run", "pipeline.py")
    assert done.returncode == 0, done.stderr
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["loading"] is False
    assert seen["node"] is True
    assert seen["frozen"] > 10_000  # the start-up's objects: modules, classes, functions


@pytest.mark.parametrize("args", [["stats", "data.csv"], ["schema", "data.csv"]])
def test_every_other_command_works_with_collections_on(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,x\n2,y\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_AT_EXIT)
    record = tmp_path / "gc.json"
    done = shipyard(tmp_path, *args, env={"SHIPYARD_TEST_GC": str(record)}, site=site)
    assert done.returncode == 0, done.stderr
    enabled, frozen = json.loads(record.read_text())
    assert enabled is True
    assert frozen > 10_000
