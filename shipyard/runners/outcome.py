"""What a finished run amounts to: models pushed, blessings, headline metrics, HTML reports.

Derived from the run's output artifacts alone, so it works for any pipeline, standard or
not: every `PushedModel` (name, version, path, or why nothing was pushed), every
`ModelBlessing` (blessed or not, its checks and notes), the headline metrics of every
`ModelEvaluation` and `Metrics`, and every HTML page an artifact holds (statistics,
anomalies and evaluation reports). `shipyard run` prints it at the end of a run, and the run's
JSON (`shipyard run --json`, `shipyard runs show --json`) carries it as `outcome`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import Metrics, ModelBlessing, ModelEvaluation, PushedModel
from shipyard.errors import DataError, NotFoundError
from shipyard.store.run_metrics import first_metrics

if TYPE_CHECKING:
    from collections.abc import Iterable

    from shipyard.artifacts import Artifact
    from shipyard.runners.results import Run
    from shipyard.store import MetadataStore, RunRecord
    from shipyard.store.records import RunState

HEADLINE_METRICS = ("accuracy", "auc", "pr_auc", "f1_macro", "log_loss", "rmse", "mae", "r2")
"""The metrics of an evaluation shown at the end of a run and in run listings, in order."""

MAX_OTHER_METRICS = 6
"""How many metrics of an artifact without any headline metric are shown."""

OUTCOME_TYPES = tuple(t.type_name for t in (PushedModel, ModelBlessing, ModelEvaluation, Metrics))
"""The artifact types an outcome reads; a run listing reads no others."""

METRIC_SOURCES: dict[str, str | None] = {
    ModelEvaluation.type_name: "metrics",
    Metrics.type_name: None,
}
"""Where each type holding metrics keeps them in its properties (None: the properties)."""


@dataclass(frozen=True)
class PushedModelSummary:
    """What one push node did.

    Attributes:
        node: The node that pushed (or declined to).
        pushed: Whether a model version was written.
        name: The model's name (None when not pushed).
        version: The version written (None when not pushed).
        path: The version's directory (None when not pushed).
        reason: Why nothing was pushed (None when pushed).
    """

    node: str
    pushed: bool
    name: str | None = None
    version: int | None = None
    path: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class BlessingSummary:
    """One model blessing: the verdict and why.

    Attributes:
        node: The node that decided.
        blessed: Whether the model passed every check.
        summary: One line: `Blessed: 2 checks passed.` or `Not blessed: <failed checks>`.
        checks: Every check made: `metric`, `passed`, `reason`, ...
        notes: Warnings that did not fail the blessing (e.g. a degenerate classifier).
        baseline_id: The artifact id of the model compared with, if any.
    """

    node: str
    blessed: bool
    summary: str
    checks: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    baseline_id: int | str | None = None


@dataclass(frozen=True)
class ReportFile:
    """An HTML page a run wrote.

    Attributes:
        node: The node whose output holds it.
        port: The output's name.
        type: The artifact's type (Statistics, Anomalies, ModelEvaluation, ...).
        path: The page's path (a URL when artifacts live in object storage).
    """

    node: str
    port: str
    type: str
    path: str


@dataclass(frozen=True)
class RunOutcome:
    """What matters once a run has ended.

    Attributes:
        models: Every push, in node order.
        blessings: Every blessing, in node order.
        metrics: Headline metrics by node, for each node that output an evaluation or metrics.
        reports: Every HTML page of every output artifact.
    """

    models: tuple[PushedModelSummary, ...] = ()
    blessings: tuple[BlessingSummary, ...] = ()
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    reports: tuple[ReportFile, ...] = ()

    @property
    def headline_metrics(self) -> dict[str, float]:
        """The metrics of the first node that has some (the evaluation, in most pipelines)."""
        return next(iter(self.metrics.values()), {})

    @property
    def blessed(self) -> bool | None:
        """True when every blessing passed, False when one failed, None without blessings."""
        if not self.blessings:
            return None
        return all(b.blessed for b in self.blessings)

    def to_json(self) -> dict[str, Any]:
        """Return the outcome as a JSON-ready dict (the `outcome` of a run's JSON)."""
        return {
            "models": [asdict(m) for m in self.models],
            "blessings": [
                {**asdict(b), "checks": list(b.checks), "notes": list(b.notes)}
                for b in self.blessings
            ],
            "metrics": self.metrics,
            "reports": [asdict(r) for r in self.reports],
        }


def run_outcome(run: Run) -> RunOutcome:
    """Summarize a finished run from its output artifacts.

    Example:
        >>> result = shipyard.run("examples/penguins/pipeline.py")
        >>> run_outcome(result).models[0].path
        '/home/me/examples/penguins/models/penguins/1'
    """
    return outcome_of(
        (name, port, artifact)
        for name, node in run.nodes.items()
        for port, artifact in node.outputs.items()
    )


def outcome_of(outputs: Iterable[tuple[str, str, Artifact]]) -> RunOutcome:
    """Summarize output artifacts, given as `(node, port, artifact)` in node order."""
    models: list[PushedModelSummary] = []
    blessings: list[BlessingSummary] = []
    metrics: dict[str, dict[str, float]] = {}
    reports: list[ReportFile] = []
    for node, port, artifact in outputs:
        if isinstance(artifact, PushedModel):
            models.append(_pushed(node, artifact))
        elif isinstance(artifact, ModelBlessing):
            blessings.append(_blessing(node, artifact))
        elif isinstance(artifact, ModelEvaluation | Metrics):
            values = _headline(artifact)
            if values:
                metrics.setdefault(node, {}).update(values)
        reports.extend(
            ReportFile(node, port, artifact.type_name, path) for path in _html_pages(artifact)
        )
    return RunOutcome(tuple(models), tuple(blessings), metrics, tuple(reports))


def _pushed(node: str, artifact: PushedModel) -> PushedModelSummary:
    facts = artifact.properties
    version = facts.get("version")
    return PushedModelSummary(
        node=node,
        pushed=bool(facts.get("pushed")),
        name=facts.get("name"),
        version=int(version) if version is not None else None,
        path=facts.get("path"),
        reason=facts.get("reason"),
    )


def _blessing(node: str, artifact: ModelBlessing) -> BlessingSummary:
    blessed = bool(artifact.properties.get("blessed"))
    try:
        decision = artifact.load()
    except (OSError, NotFoundError, DataError):  # files gone (gc) or unreadable: the record
        verdict = "Blessed." if blessed else "Not blessed."
        return BlessingSummary(
            node, blessed, verdict, baseline_id=artifact.properties.get("baseline_id")
        )
    return BlessingSummary(
        node=node,
        blessed=decision.blessed,
        summary=decision.summary(),
        checks=tuple(asdict(check) for check in decision.checks),
        notes=tuple(decision.notes),
        baseline_id=decision.baseline_id,
    )


def end_run(store: MetadataStore, run_id: str, state: RunState) -> RunRecord:
    """Finish run `run_id` in `state`, recording its metrics for listings to sort by: each
    metric's value in the first output artifact (cached ones included) holding it."""
    outputs = store.outputs_of_runs([run_id], type_names=METRIC_SOURCES)
    recorded = (_recorded_metrics(o.artifact.type_name, o.artifact.properties) for o in outputs)
    return store.finish_run(run_id, state, metrics=first_metrics(recorded))


def _recorded_metrics(type_name: str, properties: dict[str, Any]) -> object:
    source = METRIC_SOURCES[type_name]
    return properties if source is None else properties.get(source)


def _headline(artifact: ModelEvaluation | Metrics) -> dict[str, float]:
    """The headline metrics recorded in the artifact's properties (no file is read)."""
    kind = ModelEvaluation if isinstance(artifact, ModelEvaluation) else Metrics
    numbers = first_metrics([_recorded_metrics(kind.type_name, artifact.properties)])
    headline = {key: numbers[key] for key in HEADLINE_METRICS if key in numbers}
    return headline or dict(list(numbers.items())[:MAX_OTHER_METRICS])


def _html_pages(artifact: Artifact) -> list[str]:
    """The HTML files at the top of an artifact's directory, as paths a browser opens."""
    if not artifact.path.is_dir():
        return []
    names = sorted(
        entry.name
        for entry in artifact.path.iterdir()
        if entry.suffix == ".html" and entry.is_file()
    )
    if "://" in artifact.uri and not artifact.uri.startswith("file://"):
        return [f"{artifact.uri.rstrip('/')}/{name}" for name in names]
    return [str(artifact.path / name) for name in names]
