"""The reference a window is compared with: each column's bins and shares, computed once.

A reference is built from statistics (`compute_dataset_statistics` of `--reference DATA`)
and an optional schema, and kept as JSON in the monitor's state so that a rerun does not
read the reference data again. Numeric columns are compared on the reference's decile bins
(`shipyard.components.drift.Binning`), categorical ones on the reference's values plus one
bin for every other value. The comparator and threshold of each column are the schema's
drift comparator (`DataSchema.comparator`), else the type's default with threshold 0.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from shipyard.artifacts.schema import SERVING
from shipyard.components.drift import Binning, default_comparator, reference_binning

if TYPE_CHECKING:
    from shipyard.artifacts import DataSchema, DatasetStatistics, FeatureStatistics
    from shipyard.artifacts.schema import ComparatorName

Role = Literal["feature", "output"]
DEFAULT_THRESHOLD = 0.1
OTHER = "<other>"
"""The bin of a categorical column's values the reference does not list."""


@dataclass(frozen=True)
class ColumnReference:
    """What one column looked like in the reference, and how far it may move.

    Attributes:
        name: The column.
        role: "feature" (a model input) or "output" (a prediction).
        categorical: Whether it is compared value by value (strings, bools).
        binning: A numeric column's bins and the reference's shares.
        values: A categorical column's listed values; `shares` holds their shares, then
            the share of every other value (`OTHER`).
        shares: The categorical shares, as above.
        complete: Whether `values` lists every value the reference holds.
        missing_share: The reference's share of missing values.
        count: How many values the reference's shares were counted from.
        scale: A numeric column's standard deviation in the reference.
        low: The smallest value allowed (the schema's range, else the reference's min).
        high: The largest value allowed.
        comparator: The drift comparator.
        threshold: The largest drift that is not an anomaly; None when drift is off.
        domain: The schema's domain of a categorical column, if it has one.
        min_present: The schema's `presence.min_fraction`, if it sets one.
    """

    name: str
    role: Role
    categorical: bool
    binning: Binning | None = None
    values: tuple[str, ...] = ()
    shares: tuple[float, ...] = ()
    complete: bool = True
    missing_share: float = 0.0
    count: int = 0
    scale: float | None = None
    low: float | None = None
    high: float | None = None
    comparator: ComparatorName = "psi"
    threshold: float | None = DEFAULT_THRESHOLD
    domain: tuple[str, ...] | None = None
    min_present: float | None = None
    range_from_schema: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        """The bins' labels, in the order of the counts."""
        if self.binning is not None:
            return self.binning.labels
        return (*self.values, OTHER)

    @property
    def reference_shares(self) -> tuple[float, ...]:
        """The reference's share of each bin."""
        return self.binning.shares if self.binning is not None else self.shares

    def to_json(self) -> dict[str, Any]:
        """Return the column's reference as plain JSON."""
        data = {
            key: value
            for key, value in self.__dict__.items()
            if key != "binning" and value is not None
        }
        data["values"], data["shares"] = list(self.values), list(self.shares)
        if self.domain is not None:
            data["domain"] = list(self.domain)
        if self.binning is not None:
            data["binning"] = self.binning.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnReference:
        """Read what `to_json` wrote."""
        fields = dict(data)
        binning = fields.pop("binning", None)
        fields["values"] = tuple(fields.get("values", ()))
        fields["shares"] = tuple(fields.get("shares", ()))
        if fields.get("domain") is not None:
            fields["domain"] = tuple(fields["domain"])
        fields.setdefault("threshold", None)
        return cls(binning=None if binning is None else Binning.from_json(binning), **fields)


@dataclass(frozen=True)
class Reference:
    """Every monitored column's reference, and where it came from."""

    columns: dict[str, ColumnReference]
    source: str
    rows: int
    skipped: dict[str, str] = field(default_factory=dict)
    """Reference columns that are not monitored, with why (a timestamp, drift off...)."""
    baselines: dict[str, str] = field(default_factory=dict)
    """Output columns the reference lacks, compared with the first log file that had them."""

    def to_json(self) -> dict[str, Any]:
        """Return the reference as plain JSON (kept in the monitor's state)."""
        return {
            "source": self.source,
            "rows": self.rows,
            "columns": {name: column.to_json() for name, column in self.columns.items()},
            "skipped": dict(self.skipped),
            "baselines": dict(self.baselines),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reference:
        """Read what `to_json` wrote."""
        return cls(
            {name: ColumnReference.from_json(c) for name, c in data["columns"].items()},
            str(data["source"]),
            int(data["rows"]),
            dict(data.get("skipped", {})),
            dict(data.get("baselines", {})),
        )


def build_reference(
    statistics: DatasetStatistics,
    *,
    source: str,
    schema: DataSchema | None = None,
    outputs: frozenset[str] = frozenset(),
) -> Reference:
    """Return the reference of every column of `statistics` that can be monitored.

    Args:
        statistics: The reference data's statistics.
        source: Where the reference came from, for the report.
        schema: The schema whose drift comparators, ranges, domains and presence apply.
        outputs: The columns that are model outputs (compared as prediction drift).
    """
    columns: dict[str, ColumnReference] = {}
    skipped: dict[str, str] = {}
    for name, feature in statistics.features.items():
        role: Role = "output" if name in outputs else "feature"
        found = column_reference(feature, schema=schema, role=role)
        if isinstance(found, str):
            skipped[name] = found
        else:
            columns[name] = found
    return Reference(columns, source, statistics.num_rows, skipped)


def column_reference(
    feature: FeatureStatistics, *, schema: DataSchema | None, role: Role
) -> ColumnReference | str:
    """Return one column's reference, or why it is not monitored."""
    own = None if schema is None else schema.features.get(feature.name)
    if own is not None and SERVING in own.not_in:
        return "not in the SERVING environment (the schema's not_in)"
    comparator = None
    if schema is not None and own is not None:
        comparator = schema.comparator(own, "drift")
    elif feature.type in ("timestamp", "date"):
        return "a time column: it moves on by nature"
    missing_share = feature.missing / max(feature.count + feature.missing, 1)
    common: dict[str, Any] = {
        "name": feature.name,
        "role": role,
        "missing_share": missing_share,
        "count": feature.count,
        "threshold": DEFAULT_THRESHOLD if own is None else (comparator and comparator.threshold),
    }
    if own is not None and own.min_fraction > 0:
        common["min_present"] = own.min_fraction
    if feature.string is not None and feature.numeric is None:
        values = feature.string.top_values
        total = max(sum(v.count for v in values), float(feature.count))
        if total <= 0:
            return "no values in the reference"
        listed = tuple(v.value for v in values)
        shares = [v.count / total for v in values]
        name = (comparator and comparator.comparator) or default_comparator(categorical=True)
        domain = None if own is None or not own.domain else tuple(own.domain)
        return ColumnReference(
            categorical=True,
            values=listed,
            shares=(*shares, max(1.0 - sum(shares), 0.0)),
            complete=feature.string.distinct <= len(listed),
            comparator=name,
            domain=domain,
            **common,
        )
    binning = reference_binning(feature)
    if binning is None or feature.numeric is None:
        return f"no distribution to compare ({feature.type})"
    name = (comparator and comparator.comparator) or default_comparator(categorical=False)
    common["count"] = feature.count - feature.numeric.nan - feature.numeric.infinite
    common["scale"] = feature.numeric.std
    low, high = feature.numeric.min, feature.numeric.max
    from_schema = own is not None and own.range is not None
    if own is not None and own.range is not None:
        low, high = own.range.min, own.range.max
    return ColumnReference(
        categorical=False,
        binning=binning,
        low=low,
        high=high,
        range_from_schema=from_schema,
        comparator=name,
        **common,
    )
