"""The evaluation as terminal tables: overall metrics, then slices worst first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rich.console import Console

    from shipyard.artifacts import BlessingDecision, EvaluationResult

TASK_NAMES = {
    "binary": "binary classification",
    "multiclass": "multi-class classification",
    "regression": "regression",
}
SHOWN = ("accuracy", "auc", "pr_auc", "f1_macro", "log_loss", "ece", "rmse", "mae", "r2")
WORST_MARKED = 3


def print_evaluation(
    console: Console, result: EvaluationResult, blessing: BlessingDecision | None = None
) -> None:
    """Print the overall metrics, the slices (the worst marked) and the blessing's checks."""
    from rich.table import Table

    from shipyard.artifacts.evaluation import primary_metric, task_caption

    metrics = {k: v for k, v in result.metrics.items() if k in SHOWN and v is not None}
    overall = Table(
        title=f"Evaluation on {result.split or 'eval'} ({result.overall.get('count')} rows; "
        f"{task_caption(result)})",
        title_justify="left",
    )
    for name in metrics:
        overall.add_column(name, justify="right")
    overall.add_row(*(f"{value:.4g}" for value in metrics.values()))
    console.print(overall)
    if result.slices:
        primary = primary_metric(result.task)
        worst = {s["name"] for s in result.flagged_slices(WORST_MARKED)}
        table = Table(title=f"Slices, worst {primary} first", title_justify="left")
        table.add_column("slice")
        table.add_column("rows", justify="right")
        for name in metrics:
            table.add_column(name, justify="right")
        ordered = result.worst_slices() + [s for s in result.slices if not s.get("metrics")]
        for entry in ordered:
            values = entry.get("metrics") or {}
            style = "bold red" if entry["name"] in worst else ""
            cells = ["" if values.get(name) is None else f"{values[name]:.4g}" for name in metrics]
            table.add_row(entry["name"], str(entry["count"]), *cells, style=style)
        console.print(table)
    if blessing is not None:
        for check in blessing.checks:
            mark = "[green]✓[/]" if check.passed else "[red]✗[/]"
            console.print(f"{mark} {check.reason}", soft_wrap=True)
        for note in blessing.notes:
            console.print(f"[yellow]![/] {note}", soft_wrap=True)
        console.print(blessing.summary(), soft_wrap=True)


def print_task(console: Console, fields: Mapping[str, Any]) -> None:
    """Print what `shipyard train` learnt and why: the task and the positive class.

    Args:
        console: Where to print.
        fields: `task`, `task_reason`, `positive_class`, `positive_class_reason` (the
            model's signature, or `shipyard train --json`'s summary).
    """
    from rich.markup import escape

    task = fields.get("task")
    if not task:
        return
    reason = fields.get("task_reason")
    why = f" ({reason}; --task to change)" if reason else ""
    console.print(escape(f"Task: {TASK_NAMES.get(task, task)}{why}."))
    if fields.get("positive_class") is not None:
        reason = fields.get("positive_class_reason")
        why = f" ({reason}; --positive-class to change)" if reason else ""
        console.print(
            escape(f"Positive class: {fields['positive_class']!r}{why}."),
        )
