"""The live display: node states, progress (a resumed training says so) and the summary."""

from __future__ import annotations

import io

from rich.console import Console

from shipyard import Pipeline
from shipyard.dsl.context import Progress
from shipyard.runners import NodeRun, Run
from shipyard.runners.display import RichDisplay
from tests.runners.components import source


def test_a_resumed_training_shows_in_the_live_table_and_after_the_run() -> None:
    text = io.StringIO()
    display = RichDisplay(Console(file=text, width=160, color_system=None))
    node = source().with_options(name="train")
    display.on_run_start(run_id="r1", pipeline=Pipeline("p", nodes=[node]))
    running = NodeRun("train", node.component.name, state="running")
    display.on_node_state(node=running)
    display.on_node_progress(
        node=running, progress=Progress(9, 30, "epoch", {"loss": 0.25}, resumed_from=7)
    )
    live = text.getvalue()
    done = NodeRun("train", node.component.name, state="complete", duration_s=1.0)
    display.on_node_state(node=done)
    display.on_run_end(run=Run("r1", "p", "complete", 1.0, {"train": done}, "sqlite://", "/a"))
    final = text.getvalue()[len(live) :]
    assert "epoch 9/30 · loss 0.25 · resumed from epoch 7" in final
    assert "Run r1 of p complete" in final
