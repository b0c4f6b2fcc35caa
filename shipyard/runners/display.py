"""The live terminal display of a run: each node's state and duration, then a summary."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.table import Table

    from shipyard.dsl import Pipeline
    from shipyard.dsl.context import LogEntry, Progress
    from shipyard.runners.outcome import RunOutcome
    from shipyard.runners.results import NodeRun, Run

STYLES = {
    "pending": ("dim", "·"),
    "waiting": ("magenta", "⧗"),
    "running": ("yellow", "▶"),
    "complete": ("green", "✓"),
    "cached": ("cyan", "↺"),
    "failed": ("bold red", "✗"),
    "skipped": ("dim", "-"),
    "interrupted": ("bold yellow", "■"),
}


class RichDisplay:
    """A `RunHook` drawing a live table on stderr.

    Args:
        console: Where to draw (default: a stderr console).
        resume_hint: The command that reruns the pipeline, shown after a failure.
        show_outcome: Print the run's outcome (models pushed, blessings, headline metrics,
            HTML reports) after its summary line; a command printing its own turns it off.
    """

    def __init__(
        self,
        console: Console | None = None,
        *,
        resume_hint: str | None = None,
        show_outcome: bool = True,
    ) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False)
        self.resume_hint = resume_hint
        self.show_outcome = show_outcome
        self._live: Live | None = None
        self._nodes: dict[str, NodeRun] = {}
        self._components: dict[str, str] = {}
        self._started: dict[str, float] = {}
        self._progress: dict[str, Progress] = {}
        self._title = ""

    def on_run_start(self, *, run_id: str, pipeline: Pipeline, **future: Any) -> None:
        from rich.live import Live

        from shipyard.runners.results import NodeRun

        self._title = f"{pipeline.name} · run {run_id}"
        self._nodes = {n.name: NodeRun(n.name, n.component.name) for n in pipeline.nodes}
        self._live = Live(
            get_renderable=self._table, console=self.console, refresh_per_second=8, transient=True
        )
        self._live.start()

    def on_node_state(self, *, node: NodeRun, **future: Any) -> None:
        if node.state == "running":
            self._started[node.name] = time.perf_counter()
        self._nodes[node.name] = node

    def on_node_progress(self, *, node: NodeRun, progress: Progress, **future: Any) -> None:
        self._progress[node.name] = progress

    def on_node_log(self, *, node: NodeRun, entry: LogEntry, **future: Any) -> None:
        from rich.markup import escape

        colour = {"WARNING": "yellow", "ERROR": "red", "CRITICAL": "red"}.get(entry.level, "dim")
        self.console.print(
            f"[bold]{escape(node.name)}[/] [{colour}]{escape(entry.level)}[/] "
            f"{escape(entry.message)}",
            soft_wrap=True,
            highlight=False,
        )

    def on_run_stopping(
        self, *, reason: str, grace_s: float, nodes: list[str], **future: Any
    ) -> None:
        waiting = f" for {', '.join(nodes)}" if nodes else ""
        self.console.print(
            f"[bold yellow]Interrupted[/] by {reason}: stopping, waiting up to {grace_s:g} s"
            f"{waiting} (press Ctrl-C again to exit at once).",
            soft_wrap=True,
        )

    def on_run_end(self, *, run: Run, **future: Any) -> None:
        if self._live is not None:
            self._live.stop()
        self.console.print(self._table())
        self.print_summary(run)

    def print_summary(self, run: Run) -> None:
        """Print the outcome, where the outputs went and, after a failure, the traceback."""
        from rich.markup import escape
        from rich.panel import Panel
        from rich.text import Text

        from shipyard.runners.faults import error_text
        from shipyard.runners.outcome import run_outcome

        counts: dict[str, int] = {}
        for node in run.nodes.values():
            counts[node.state] = counts.get(node.state, 0) + 1
        detail = ", ".join(f"{n} {state}" for state, n in counts.items())
        colour = "green" if run.ok else "yellow" if run.state == "interrupted" else "red"
        self.console.print(
            f"[{colour}]Run {run.id} of {run.pipeline} {run.state}[/] in "
            f"{run.duration_s:.2f} s ({detail})."
        )
        if self.show_outcome:
            print_outcome(self.console, run_outcome(run))
        self.console.print(
            f"Outputs: {escape(run.artifact_root)}/{escape(run.pipeline)}/ "
            f"(store: {escape(run.store_url)})",
            soft_wrap=True,
        )
        for node in run.failed:
            assert node.error is not None
            self.console.print(
                Panel(
                    Text(error_text(node.error).rstrip()),
                    title=_failure_title(node),
                    title_align="left",
                    border_style="red",
                )
            )
            self._print_stopped_outputs(node)
        if run.state == "interrupted":
            self._print_interrupted(run)
        elif run.failed and self.resume_hint:
            self.console.print(
                f"Fix the error, then resume with: [bold]{escape(self.resume_hint)}[/] "
                f"(finished nodes are reused from the cache)."
            )

    def _print_interrupted(self, run: Run) -> None:
        """Say what was stopped and the command that resumes."""
        from rich.markup import escape

        stopped = [n.name for n in run.nodes.values() if n.state == "interrupted"]
        what = f": {', '.join(stopped)} stopped" if stopped else ""
        self.console.print(f"[bold yellow]Interrupted[/]{escape(what)}.")
        if self.resume_hint:
            self.console.print(
                f"Resume with: [bold]{escape(self.resume_hint)}[/] (finished nodes are reused "
                "from the cache; training resumes from its checkpoint).",
                soft_wrap=True,
            )

    def _print_stopped_outputs(self, node: NodeRun) -> None:
        """Name the outputs a node published before it stopped the run (its report)."""
        from rich.markup import escape

        from shipyard.artifacts import Anomalies

        for port, artifact in node.outputs.items():
            if isinstance(artifact, Anomalies):
                where = artifact.path / Anomalies.HTML_FILENAME
                self.console.print(f"The anomalies report: [bold]{escape(str(where))}[/]")
            else:
                self.console.print(f"{node.name} published {port!r}: {escape(str(artifact.path))}")

    def _table(self) -> Table:
        from rich.table import Table

        table = Table(title=self._title, title_justify="left", expand=False)
        table.add_column("node")
        table.add_column("component")
        table.add_column("state")
        table.add_column("time", justify="right")
        if self._progress:
            table.add_column("progress")
        now = time.perf_counter()
        for node in self._nodes.values():
            style, mark = STYLES[node.state]
            if node.duration_s is not None and node.state != "running":
                seconds = f"{node.duration_s:.2f} s"
            elif node.state == "running":
                seconds = f"{now - self._started.get(node.name, now):.1f} s"
            else:
                seconds = ""
            cells: list[RenderableType] = [
                node.name,
                node.component,
                f"[{style}]{mark} {node.state}[/]",
                seconds,
            ]
            if self._progress:
                cells.append(self._progress_cell(node))
            table.add_row(*cells)
        return table

    def _progress_cell(self, node: NodeRun) -> RenderableType:
        """A bar and the latest values while a node runs; its last report once it ends."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar

        progress = self._progress.get(node.name)
        if progress is None:
            return ""
        text = progress.describe()
        if node.state != "running" or not progress.total:
            return text
        bar = ProgressBar(total=progress.total, completed=progress.done, width=24)
        return Group(bar, text)


def _failure_title(node: NodeRun) -> str:
    """A failed node's panel title: its component failed, or the platform did (not theirs)."""
    from rich.markup import escape

    from shipyard.errors import PlatformError

    if isinstance(node.error, PlatformError):
        return (
            f"[bold red]{escape(node.error.headline)}[/] in node [bold]{escape(node.name)}[/] "
            f"(a fault of the platform, not of component {escape(node.component)})"
        )
    return f"[bold red]{escape(node.name)}[/] failed (component {escape(node.component)})"


def print_outcome(console: Console, outcome: RunOutcome) -> None:
    """Print what matters: models pushed, blessings and why, headline metrics, reports.

    Paths are printed whole (never truncated, never folded), so they can be copied.
    """
    from rich.markup import escape

    for model in outcome.models:
        if model.pushed:
            console.print(
                f"[bold green]Model {escape(str(model.name))} version {model.version}[/] "
                f"pushed to {escape(str(model.path))}",
                soft_wrap=True,
            )
        else:
            console.print(
                f"[bold yellow]No model pushed[/] ({escape(model.node)}): "
                f"{escape(model.reason or 'no reason recorded')}",
                soft_wrap=True,
            )
    for blessing in outcome.blessings:
        colour = "green" if blessing.blessed else "bold red"
        console.print(f"[{colour}]{escape(blessing.summary)}[/]", soft_wrap=True)
        for note in blessing.notes:
            console.print(f"  [yellow]note[/]: {escape(note)}", soft_wrap=True)
    for node, values in outcome.metrics.items():
        shown = " · ".join(f"{name} {value:.4g}" for name, value in values.items())
        console.print(f"Metrics ({escape(node)}): {shown}", soft_wrap=True)
    if outcome.reports:
        console.print("Reports:")
        width = max(len(f"{r.node}/{r.port}") for r in outcome.reports)
        for report in outcome.reports:
            label = f"{report.node}/{report.port}".ljust(width)
            console.print(f"  {escape(label)}  {escape(report.path)}", soft_wrap=True)
