"""Run hooks: how displays, the UI and monitoring follow a run as it happens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from shipyard.dsl import Pipeline
    from shipyard.dsl.context import LogEntry, Progress
    from shipyard.runners.results import NodeRun, Run


class RunHook(Protocol):
    """Receives run events. Arguments are keyword-only; `**future` keeps new fields harmless."""

    def on_run_start(self, *, run_id: str, pipeline: Pipeline, **future: Any) -> None:
        """A run was registered and is about to start its first node."""

    def on_node_state(self, *, node: NodeRun, **future: Any) -> None:
        """A node changed state (running, complete, cached, failed, skipped or interrupted)."""

    def on_run_stopping(
        self, *, reason: str, grace_s: float, nodes: list[str], **future: Any
    ) -> None:
        """A first Ctrl-C: the run waits up to `grace_s` for the running `nodes` to stop."""

    def on_node_progress(self, *, node: NodeRun, progress: Progress, **future: Any) -> None:
        """A running node reported progress (from the engine's worker thread)."""

    def on_node_log(self, *, node: NodeRun, entry: LogEntry, **future: Any) -> None:
        """A running node logged a record (from the engine's relay thread)."""

    def on_run_end(self, *, run: Run, **future: Any) -> None:
        """The run finished, successfully or not (`run.state` "interrupted" after Ctrl-C)."""
