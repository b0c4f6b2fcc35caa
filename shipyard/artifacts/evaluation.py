"""Model evaluation and blessing: their values and their artifacts.

`EvaluationResult` holds what evaluating a model found (overall metrics with their detail,
metrics per slice); `BlessingDecision` whether the model is good enough to push, with every
check made and why. `ModelEvaluation` stores the first as `evaluation.json` and a
self-contained `report.html`; `ModelBlessing` the second as `blessing.json`, and records
`blessed` in its properties so a later run can find the latest blessed model.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from shipyard.artifacts.artifact import Artifact
from shipyard.errors import DataError

if TYPE_CHECKING:
    from rich.table import Table

EVALUATION_VERSION = 1

LOWER_IS_BETTER = frozenset(
    {"rmse", "mae", "mean_absolute_error", "log_loss", "expected_calibration_error"}
)
HIGHER_IS_BETTER = frozenset({"accuracy", "precision", "recall", "f1", "auc", "pr_auc", "r2"})
"""Metric directions. `precision_macro`, `f1_weighted`... take their base metric's."""


def metric_direction(metric: str) -> Literal["higher", "lower"] | None:
    """Return whether a higher or a lower value of `metric` is better; None if unknown."""
    base = metric.removesuffix("_macro").removesuffix("_weighted")
    if base in HIGHER_IS_BETTER:
        return "higher"
    if base in LOWER_IS_BETTER:
        return "lower"
    return None


def primary_metric(task: str) -> str:
    """Return the metric reports rank slices by: accuracy, or RMSE for regression.

    Both are defined for every slice with at least one row, whatever classes it holds,
    unlike AUC (undefined without both classes), precision (without a predicted positive)
    or R² (with one label value); so no slice drops out of the ranking.
    """
    return "rmse" if task == "regression" else "accuracy"


@dataclass(frozen=True)
class EvaluationResult:
    """What evaluating one model on one dataset found.

    Attributes:
        overall: The output of `compute_metrics` on every row: `task`, `count`, `metrics`,
            `undefined` and the detail (confusion matrix, curves, calibration, residuals).
        slices: One dict per slice, from `slice_metrics`: `feature`, `value`, `name`,
            `count`, `metrics` (None when the slice was too small), `undefined`, `skipped`.
        split: The split evaluated.
    """

    overall: dict[str, Any]
    slices: tuple[dict[str, Any], ...] = ()
    split: str | None = None

    @property
    def task(self) -> str:
        """`binary`, `multiclass` or `regression`."""
        return str(self.overall.get("task", ""))

    @property
    def metrics(self) -> dict[str, float | None]:
        """The overall scalar metrics."""
        return dict(self.overall.get("metrics", {}))

    def worst_slices(self, metric: str | None = None) -> list[dict[str, Any]]:
        """Return the evaluated slices ordered worst first by `metric` (default: primary).

        Slices too small to evaluate, and slices where `metric` is undefined (only possible
        for a metric other than the primary one), are left out. Ties go to the larger slice.
        """
        metric = metric or primary_metric(self.task)
        sign = -1.0 if metric_direction(metric) == "lower" else 1.0
        scored = [
            s for s in self.slices if s.get("metrics") and s["metrics"].get(metric) is not None
        ]
        return sorted(scored, key=lambda s: (sign * s["metrics"][metric], -s["count"]))

    def flagged_slices(self, limit: int = 3, metric: str | None = None) -> list[dict[str, Any]]:
        """Return at most `limit` of the worst slices, only those worse than overall.

        A slice as good as the whole evaluation is never flagged, even when it ranks first:
        when every slice scores accuracy 1.0, none is "worst".

        Example:
            >>> [s["name"] for s in result.flagged_slices()]
            ['island=Dream']
        """
        metric = metric or primary_metric(self.task)
        overall = self.metrics.get(metric)
        if overall is None:
            return []
        lower = metric_direction(metric) == "lower"
        return [
            s
            for s in self.worst_slices(metric)[:limit]
            if (s["metrics"][metric] > overall if lower else s["metrics"][metric] < overall)
        ]

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "version": EVALUATION_VERSION,
            "split": self.split,
            "overall": self.overall,
            "slices": list(self.slices),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvaluationResult:
        """Rebuild from `to_json` output.

        Raises:
            DataError: The data does not have the expected shape.
        """
        try:
            return cls(
                overall=dict(data["overall"]),
                slices=tuple(data.get("slices", ())),
                split=data.get("split"),
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"malformed model evaluation: {exc}") from exc

    def to_html(
        self, *, title: str = "Model evaluation", blessing: BlessingDecision | None = None
    ) -> str:
        """Return a self-contained HTML page: the model, its blessing's checks when given,
        metrics beside the baseline's, charts, confusion matrix, slices."""
        from shipyard.artifacts.evaluation_report import render_report

        return render_report(self, title=title, blessing=blessing)


CheckKind = Literal["min", "max", "regression", "degenerate"]


@dataclass(frozen=True)
class BlessingCheck:
    """One threshold checked against one metric.

    Attributes:
        metric: The metric's name.
        kind: `min` / `max` (an absolute bound), `regression` (vs the baseline) or
            `degenerate` (a classifier that predicts one class for every row).
        value: The candidate's value (None when undefined on this data).
        bound: The limit the value had to respect: the bound itself, or for a regression
            the baseline's value moved by the allowed drop.
        passed: Whether the check passed.
        reason: A sentence saying what was compared and the outcome.
        baseline: The baseline's value, for regression checks.
    """

    metric: str
    kind: CheckKind
    value: float | None
    bound: float | None
    passed: bool
    reason: str
    baseline: float | None = None


@dataclass(frozen=True)
class BlessingDecision:
    """Whether a model may be pushed: blessed when every check passed.

    Attributes:
        blessed: True when every check passed (and when there are no checks).
        checks: Every check made, absolute bounds first.
        baseline_id: The id of the baseline model compared with, None for the first model.
    """

    blessed: bool
    checks: tuple[BlessingCheck, ...] = ()
    baseline_id: int | str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> list[BlessingCheck]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]

    def summary(self) -> str:
        """Return one line: `Blessed: 3 checks passed.` or `Not blessed: ...`."""
        if self.blessed and not self.checks:
            return "Blessed: no check applied (no thresholds, and no baseline to compare with)."
        if self.blessed:
            return f"Blessed: {len(self.checks)} check{'s' * (len(self.checks) != 1)} passed."
        return "Not blessed: " + " ".join(c.reason for c in self.failed)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "version": EVALUATION_VERSION,
            "blessed": self.blessed,
            "baseline_id": self.baseline_id,
            "checks": [asdict(c) for c in self.checks],
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BlessingDecision:
        """Rebuild from `to_json` output.

        Raises:
            DataError: The data does not have the expected shape.
        """
        try:
            return cls(
                blessed=bool(data["blessed"]),
                checks=tuple(BlessingCheck(**c) for c in data.get("checks", ())),
                baseline_id=data.get("baseline_id"),
                notes=tuple(data.get("notes", ())),
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"malformed model blessing: {exc}") from exc


def format_metric(value: float | None) -> str:
    """Format a metric with 4 significant digits; an en dash when undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\N{EN DASH}"
    return f"{value:.4g}"


def task_caption(result: EvaluationResult) -> str:
    """`"binary, positive class 'yes'"`, `"multiclass"` or `"regression"`.

    Example:
        >>> task_caption(evaluation.load())
        "binary, positive class 'yes'"
    """
    positive = result.overall.get("positive_class")
    return result.task if positive is None else f"{result.task}, positive class {positive!r}"


def summary_table(result: EvaluationResult, *, worst: int = 3) -> Table:
    """Return a Rich table of the overall metrics and the `worst` slices, for the terminal.

    Example:
        >>> rich.print(summary_table(evaluation.load()))
    """
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=f"Model evaluation ({task_caption(result)}, {result.overall.get('count', 0):,} rows)"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    undefined = result.overall.get("undefined", {})
    for name, value in result.metrics.items():
        shown = format_metric(value)
        if value is None and name in undefined:
            shown += f" [dim]({escape(undefined[name])})[/dim]"
        table.add_row(escape(name), shown)
    metric = primary_metric(result.task)
    for entry in result.flagged_slices(worst, metric):
        table.add_row(
            f"[red]worst slice[/red] {escape(entry['name'])} (n={entry['count']:,})",
            f"{metric} {format_metric(entry['metrics'][metric])}",
        )
    return table


def _write_json(path: Any, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")


class ModelEvaluation(Artifact):
    """A model's metrics overall and per slice: `evaluation.json` and a `report.html` page.

    Example:
        >>> evaluation.save(EvaluationResult(overall=compute_metrics(...), slices=...))
        >>> evaluation.load().metrics["auc"]
    """

    FILENAME = "evaluation.json"
    HTML_FILENAME = "report.html"

    def save(self, value: EvaluationResult, *, blessing: BlessingDecision | None = None) -> None:
        """Write the result as JSON and HTML; record the overall metrics in `properties`.

        Args:
            value: The evaluation.
            blessing: The decision taken from it, shown in the report with every check.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        _write_json(self.path / self.FILENAME, value.to_json())
        page = value.to_html(blessing=blessing)
        (self.path / self.HTML_FILENAME).write_text(page, encoding="utf-8")
        self.properties.update(
            task=value.task,
            count=value.overall.get("count"),
            metrics={k: v for k, v in value.metrics.items() if v is not None},
            slices=len(value.slices),
        )

    def load(self) -> EvaluationResult:
        """Read the result back.

        Raises:
            NotFoundError: The artifact holds no evaluation.
        """
        file = self.required_file(self.FILENAME)
        return EvaluationResult.from_json(json.loads(file.read_text(encoding="utf-8")))

    def preview(self) -> dict[str, Any]:
        if not (self.path / self.FILENAME).is_file():
            return {}
        result = self.load()
        return {
            "task": result.task,
            "metrics": result.metrics,
            "worst_slices": [
                {"name": s["name"], "count": s["count"], "metrics": s["metrics"]}
                for s in result.worst_slices()[:5]
            ],
        }

    def _preview_html(self) -> str:
        if not (self.path / self.FILENAME).is_file():
            return ""
        from shipyard.artifacts.evaluation_report import render_fragment

        return render_fragment(self.load())


class ModelBlessing(Artifact):
    """Whether a model passed its thresholds: `blessing.json`; `blessed` in `properties`.

    Example:
        >>> blessing.save(decide_blessing(metrics, thresholds={"auc": {"min": 0.8}}))
        >>> blessing.load().blessed
    """

    FILENAME = "blessing.json"

    def save(self, value: BlessingDecision) -> None:
        """Write the decision as JSON; record `blessed` and `baseline_id` in `properties`."""
        self.path.mkdir(parents=True, exist_ok=True)
        _write_json(self.path / self.FILENAME, value.to_json())
        self.properties.update(blessed=value.blessed, baseline_id=value.baseline_id)

    def load(self) -> BlessingDecision:
        """Read the decision back.

        Raises:
            NotFoundError: The artifact holds no decision.
        """
        file = self.required_file(self.FILENAME)
        return BlessingDecision.from_json(json.loads(file.read_text(encoding="utf-8")))

    def preview(self) -> dict[str, Any]:
        if not (self.path / self.FILENAME).is_file():
            return {}
        decision = self.load()
        return {"summary": decision.summary(), **decision.to_json()}

    def _preview_html(self) -> str:
        if not (self.path / self.FILENAME).is_file():
            return ""
        from shipyard.artifacts.evaluation_report import render_blessing

        return render_blessing(self.load())
