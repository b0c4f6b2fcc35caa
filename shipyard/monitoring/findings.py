"""A window's figures and findings: each column's drift, missingness, bad values; a verdict.

A window is compared with the reference column by column (`measure_window`):

- **drift** (`prediction_drift` for model outputs): the column's comparator (PSI for numbers,
  L-infinity for categories, or the schema's) between the reference's shares and the
  window's, once the window holds at least `min_rows` values of the column;
- **missing**: the share of rows without a value exceeds the schema's `presence` (1 -
  `min_fraction`), or without one the reference's share by more than 0.1;
- **out_of_range**: values outside the schema's range, or strings outside its domain;
- **unseen**: without a schema domain, more than 1% of a categorical column's values are
  values the reference never held, when the reference listed all of its values;
- **invalid**: NaN, infinities or words in a numeric column the schema declares;
- **dataset_drift**: at least `dataset_share` of the measured features drifted;
- and what each per-window `Measure` finds (`latency`: the p99 over its threshold).

Values outside the reference's own range are counted and shown, but are findings only
against a schema's range: a reference is a sample, a schema a contract.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from shipyard.components.drift import (
    Distributions,
    applicable,
    comparator_title,
    largest_change,
    measure,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shipyard.artifacts.schema import ComparatorName
    from shipyard.monitoring.counts import ColumnCounts, WindowCounts
    from shipyard.monitoring.measures import Figures, Measure
    from shipyard.monitoring.reference import ColumnReference, Reference

FindingKind = Literal[
    "drift",
    "prediction_drift",
    "missing",
    "out_of_range",
    "unseen",
    "invalid",
    "dataset_drift",
    "latency",
    "decay",  # shipyard.monitoring.decay: a live metric fell behind evaluation
]
MISSING_MARGIN = 0.1
"""Without a schema: how much more often than in the reference a column may be missing."""
UNSEEN_SHARE = 0.01
"""Without a schema domain: the largest share of values the reference never held."""


@dataclass(frozen=True)
class Finding:
    """Something wrong in a window: what, in which column, how much against what limit."""

    column: str
    kind: FindingKind
    value: float
    threshold: float
    message: str

    def to_json(self) -> dict[str, Any]:
        """Return the finding as plain JSON."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ColumnFigures:
    """One column's figures in one window."""

    column: str
    role: str
    values: int
    drift: float | None
    comparator: ComparatorName
    threshold: float | None
    missing_share: float
    invalid: int
    out_of_range: int
    unseen: dict[str, int]
    shares: list[float]


@dataclass(frozen=True)
class WindowFigures:
    """A window's figures, its findings and its verdict."""

    start_us: int
    end_us: int
    complete: bool
    rows: int
    requests: int
    versions: dict[str, int]
    columns: dict[str, ColumnFigures]
    drifted_share: float | None
    findings: list[Finding]
    measures: dict[str, Figures] = dataclasses.field(default_factory=dict)
    """Each `Measure`'s figures by its name (`latency`: `p50_ms`, `p95_ms`, `p99_ms`...)."""

    @property
    def dataset_drift(self) -> bool:
        """Whether the window's dataset-level verdict is drift."""
        return any(f.kind == "dataset_drift" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """Return the window as plain JSON (the report's shape)."""
        from shipyard.monitoring.report import iso_time

        return {
            "start": iso_time(self.start_us),
            "end": iso_time(self.end_us),
            "complete": self.complete,
            "rows": self.rows,
            "requests": self.requests,
            "versions": self.versions,
            "drifted_share": self.drifted_share,
            "dataset_drift": self.dataset_drift,
            "columns": {name: dataclasses.asdict(c) for name, c in self.columns.items()},
            "measures": self.measures,
            "findings": [f.to_json() for f in self.findings],
        }


def measure_window(
    counts: WindowCounts,
    reference: Reference,
    *,
    window_us: int,
    complete: bool,
    min_rows: int,
    dataset_share: float,
    schema_given: bool,
    measures: Sequence[Measure] = (),
) -> WindowFigures:
    """Compare one window's counts with the reference; return its figures and findings."""
    columns: dict[str, ColumnFigures] = {}
    findings: list[Finding] = []
    measured = drifted = 0
    for name, column_counts in counts.columns.items():
        column = reference.columns[name]
        figures = _column_figures(column, column_counts, counts.rows, min_rows)
        columns[name] = figures
        findings.extend(_findings(column, figures, min_rows, schema_given, counts.rows))
        if figures.drift is not None and column.role == "feature":
            measured += 1
            drifted += int(figures.threshold is not None and figures.drift > figures.threshold)
    share = drifted / measured if measured else None
    if share is not None and share >= dataset_share:
        findings.append(
            Finding(
                "*",
                "dataset_drift",
                share,
                dataset_share,
                f"{drifted} of {measured} features drifted ({share:.0%}, at least "
                f"{dataset_share:.0%} is dataset drift).",
            )
        )
    figures_of: dict[str, Figures] = {}
    for provider in measures:
        figures_of[provider.name], found = provider.measure(counts.measures.get(provider.name))
        findings.extend(found)
    return WindowFigures(
        counts.start_us,
        counts.start_us + window_us,
        complete,
        counts.rows,
        counts.requests,
        dict(counts.versions),
        columns,
        share,
        findings,
        figures_of,
    )


def _column_figures(
    column: ColumnReference, counts: ColumnCounts, rows: int, min_rows: int
) -> ColumnFigures:
    total = counts.values
    shares = [n / total for n in counts.bins] if total else [0.0] * len(counts.bins)
    drift = None
    comparator = column.comparator
    if total >= min_rows and column.threshold is not None:
        found = Distributions(
            list(column.labels),
            list(column.reference_shares),
            shares,
            column.categorical,
            (float(column.count), float(total)),
            None if column.binning is None else column.binning.spans,
            column.scale,
        )
        comparator = applicable(found, column.comparator)
        drift = measure(found, comparator)
    return ColumnFigures(
        column.name,
        column.role,
        total,
        drift,
        comparator,
        column.threshold,
        counts.missing / rows if rows else 0.0,
        counts.invalid,
        counts.out_of_range,
        dict(counts.unseen),
        shares,
    )


def _findings(
    column: ColumnReference,
    figures: ColumnFigures,
    min_rows: int,
    schema_given: bool,
    rows: int,
) -> list[Finding]:
    found: list[Finding] = []
    name = column.name
    if figures.drift is not None and figures.threshold is not None:
        if figures.drift > figures.threshold:
            kind: FindingKind = "drift" if column.role == "feature" else "prediction_drift"
            found.append(
                Finding(
                    name,
                    kind,
                    figures.drift,
                    figures.threshold,
                    f"{name!r} drifted: {comparator_title(figures.comparator)} "
                    f"{figures.drift:.3f} exceeds {figures.threshold:g}"
                    f"{_largest_change(column, figures)}.",
                )
            )
    allowed = (
        1.0 - column.min_present
        if column.min_present is not None
        else (None if schema_given else column.missing_share + MISSING_MARGIN)
    )
    if allowed is not None and rows >= min_rows and figures.missing_share > allowed + 1e-12:
        found.append(
            Finding(
                name,
                "missing",
                figures.missing_share,
                allowed,
                f"{name!r} is missing in {figures.missing_share:.1%} of the rows "
                f"(at most {allowed:.1%} allowed).",
            )
        )
    if schema_given and figures.out_of_range and (column.range_from_schema or column.domain):
        what = (
            f"outside the domain (e.g. {_outside(column, figures)!r})"
            if column.categorical
            else f"outside [{column.low:g}, {column.high:g}]"
            if column.low is not None and column.high is not None
            else "outside the schema's range"
        )
        found.append(
            Finding(
                name,
                "out_of_range",
                figures.out_of_range,
                0,
                f"{name!r} has {figures.out_of_range} values {what}.",
            )
        )
    unseen = figures.shares[-1] if column.categorical and figures.values else 0.0
    if column.categorical and column.domain is None and column.complete and unseen > UNSEEN_SHARE:
        example = next(iter(figures.unseen), "?")
        found.append(
            Finding(
                name,
                "unseen",
                unseen,
                UNSEEN_SHARE,
                f"{name!r} has {unseen:.1%} values the reference never held (e.g. {example!r}).",
            )
        )
    if schema_given and figures.invalid and not column.categorical:
        found.append(
            Finding(
                name,
                "invalid",
                figures.invalid,
                0,
                f"{name!r} has {figures.invalid} values that are not finite numbers "
                "(NaN, infinities or words).",
            )
        )
    return found


def _outside(column: ColumnReference, figures: ColumnFigures) -> str:
    allowed = set(column.domain or ())
    return next((value for value in figures.unseen if value not in allowed), "?")


def _largest_change(column: ColumnReference, figures: ColumnFigures) -> str:
    before = column.reference_shares
    if not before:
        return ""
    moved = largest_change(column.labels, before, figures.shares, categorical=column.categorical)
    return f" ({moved})"
