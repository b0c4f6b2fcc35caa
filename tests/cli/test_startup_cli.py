"""The `shipyard` command collects garbage less often while it starts, as usual once its work
starts: a run's nodes and every other command see the collector as Python sets it."""

from __future__ import annotations

import gc
import json
from typing import TYPE_CHECKING

import pytest

from shipyard._startup import STARTUP_THRESHOLD
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

SEEN = {"loading": gc.get_threshold()}  # the pipeline file loads during the start-up


@component(cache=False)
def note(out: Out[Artifact]) -> None:
    SEEN["node"] = gc.get_threshold()
    Path(__file__).with_name("seen.json").write_text(json.dumps(SEEN))
    (out.path / "done").write_text("")


def pipeline() -> Pipeline:
    return Pipeline("gc", nodes=[note()])
"""

_AT_EXIT = """
import atexit, gc, json, os

def _record():
    with open(os.environ["SHIPYARD_TEST_GC"], "w") as out:
        json.dump(gc.get_threshold(), out)

atexit.register(_record)
"""


def test_a_run_starts_with_fewer_collections_and_its_nodes_run_with_the_usual(
    tmp_path: Path,
) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    done = shipyard(tmp_path, "run", "pipeline.py")
    assert done.returncode == 0, done.stderr
    seen = json.loads((tmp_path / "seen.json").read_text())
    default = list(gc.get_threshold())  # pytest does not change Python's defaults
    assert seen["loading"] == [STARTUP_THRESHOLD, *default[1:]]
    assert seen["node"] == default


@pytest.mark.parametrize("args", [["stats", "data.csv"], ["schema", "data.csv"]])
def test_every_other_command_works_with_the_usual_collections(
    tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,x\n2,y\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_AT_EXIT)
    record = tmp_path / "gc.json"
    done = shipyard(tmp_path, *args, env={"SHIPYARD_TEST_GC": str(record)}, site=site)
    assert done.returncode == 0, done.stderr
    assert json.loads(record.read_text()) == list(gc.get_threshold())
