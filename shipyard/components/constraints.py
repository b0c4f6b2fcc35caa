"""Checks of one split's statistics against the schema's per-feature constraints.

Each check reads only the statistics (never the rows): columns missing or new, types,
presence, string domains (exact: statistics list every value when there are at most 1,000),
numeric ranges (the share outside is estimated from the equal-width histogram, values
taken as uniform within a bucket) and list lengths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.artifacts import Anomaly

if TYPE_CHECKING:
    from shipyard.artifacts import (
        DataSchema,
        DatasetStatistics,
        FeatureSchema,
        FeatureStatistics,
        Histogram,
    )
    from shipyard.artifacts.anomalies import AnomalyKind

MAX_EXAMPLES = 5
_EPSILON = 1e-9


def check_split(
    statistics: DatasetStatistics,
    schema: DataSchema,
    *,
    environment: str | None,
    split: str,
) -> list[Anomaly]:
    """Return every anomaly of one split against the schema, feature by feature.

    Args:
        statistics: The split's statistics.
        schema: The schema.
        environment: Features `not_in` it are neither expected nor reported.
        split: The split's name, for the anomalies and their descriptions.
    """
    found: list[Anomaly] = []
    for feature in schema.features_in(environment):
        stats = statistics.features.get(feature.name)
        if stats is None:
            hint = f", or mark it `not_in: [{environment}]`" if environment else ""
            found.append(
                _anomaly(
                    schema,
                    feature,
                    "missing_column",
                    split,
                    f"{feature.name!r} is in the schema but not in {split!r}. Restore the "
                    f"column, or remove it from the schema{hint} if it is gone for good.",
                )
            )
            continue
        found.extend(_check_feature(schema, feature, stats, split))
    for name in statistics.features:
        if name not in schema.features:
            found.append(
                Anomaly(
                    feature=name,
                    kind="new_column",
                    severity=schema.severity_of("new_column"),
                    description=f"{name!r} is in {split!r} but not in the schema. Add it to "
                    f"the schema's features if it is expected.",
                    split=split,
                )
            )
    return found


def _check_feature(
    schema: DataSchema, feature: FeatureSchema, stats: FeatureStatistics, split: str
) -> list[Anomaly]:
    name = feature.name
    if stats.count > 0 and not _compatible(feature.type, stats.type):
        return [
            _anomaly(
                schema,
                feature,
                "wrong_type",
                split,
                f"{name!r} should be {feature.type} but is {stats.type} in {split!r}. Fix the "
                f"data, or change its type in the schema.",
            )
        ]
    found: list[Anomaly] = []
    rows = stats.count + stats.missing
    present = stats.count / rows if rows else 1.0
    if present < feature.min_fraction - _EPSILON:
        if feature.required:
            what = f"is required but missing in {stats.missing} of {rows} rows"
        else:
            what = (
                f"is present in {present:.1%} of {rows} rows, fewer than its "
                f"min_fraction {feature.min_fraction:g}"
            )
        found.append(
            _anomaly(
                schema,
                feature,
                "too_many_missing",
                split,
                f"{name!r} {what} in {split!r} ({stats.missing_fraction:.1%} missing). Fix "
                f"the data, or lower its presence in the schema.",
                fraction=stats.missing_fraction,
            )
        )
    if feature.domain is not None and stats.string is not None:
        found.extend(_check_domain(schema, feature, stats, split))
    if feature.range is not None and stats.numeric is not None:
        found.extend(_check_range(schema, feature, stats, split))
    if feature.value_count is not None and stats.lists is not None:
        allowed = feature.value_count
        shortest, longest = stats.lists.min_length, stats.lists.max_length
        if shortest < allowed.min or (allowed.max is not None and longest > allowed.max):
            limit = "any number" if allowed.max is None else str(allowed.max)
            found.append(
                _anomaly(
                    schema,
                    feature,
                    "wrong_value_count",
                    split,
                    f"{name!r} has lists of {shortest} to {longest} values in {split!r}; the "
                    f"schema allows {allowed.min} to {limit}. Fix the data, or change its "
                    f"value_count in the schema.",
                    examples=(f"{shortest} values", f"{longest} values"),
                )
            )
    return found


def _check_domain(
    schema: DataSchema, feature: FeatureSchema, stats: FeatureStatistics, split: str
) -> list[Anomaly]:
    assert stats.string is not None and feature.domain is not None
    allowed = set(feature.domain)
    values = stats.string.top_values
    outside = [v for v in values if v.value not in allowed]
    if not outside:
        return []
    total = max(sum(v.count for v in values), float(stats.count))
    share = sum(v.count for v in outside) / total if total else 0.0
    ordered = sorted(outside, key=lambda v: (-v.count, v.value))
    shown = ", ".join(repr(v.value) for v in ordered[:MAX_EXAMPLES])
    more = f" and {len(outside) - MAX_EXAMPLES} more" if len(outside) > MAX_EXAMPLES else ""
    partial = (
        f" (only its {len(values)} most frequent values were checked)"
        if stats.string.distinct > len(values)
        else ""
    )
    count = len(outside)
    return [
        _anomaly(
            schema,
            feature,
            "out_of_domain",
            split,
            f"{feature.name!r} has {count} value{'s' * (count != 1)} outside its domain in "
            f"{split!r}{partial} ({share:.1%} of its values): {shown}{more}. Add "
            f"{'them' if count != 1 else 'it'} to its domain in the schema if "
            f"{'they are' if count != 1 else 'it is'} valid.",
            fraction=share,
            examples=tuple(v.value for v in ordered[:MAX_EXAMPLES]),
        )
    ]


def _check_range(
    schema: DataSchema, feature: FeatureSchema, stats: FeatureStatistics, split: str
) -> list[Anomaly]:
    numbers, bounds = stats.numeric, feature.range
    assert numbers is not None and bounds is not None
    examples: list[str] = []
    if numbers.min is not None and bounds.min is not None and numbers.min < bounds.min:
        examples.append(f"{numbers.min:g}")
    if numbers.max is not None and bounds.max is not None and numbers.max > bounds.max:
        examples.append(f"{numbers.max:g}")
    if numbers.infinite:
        examples.append("inf")
    if not examples:
        return []
    outside = share_outside(numbers.histogram, bounds.min, bounds.max) + numbers.infinite
    share = outside / stats.count if stats.count else 0.0
    low = "-inf" if bounds.min is None else f"{bounds.min:g}"
    high = "inf" if bounds.max is None else f"{bounds.max:g}"
    return [
        _anomaly(
            schema,
            feature,
            "out_of_range",
            split,
            f"{feature.name!r} has values outside its range [{low}, {high}] in {split!r}: "
            f"{', '.join(examples)} (about {share:.1%} of its values). Widen the range in the "
            f"schema if they are valid.",
            fraction=share,
            examples=tuple(examples),
        )
    ]


def share_outside(histogram: Histogram, low: float | None, high: float | None) -> float:
    """Return how many of a histogram's values lie outside `[low, high]` (None: unbounded).

    Values are taken as uniform within each bucket; a zero-width bucket is a point.

    Example:
        >>> share_outside(Histogram("equal_width", [0.0, 10.0], [100.0]), None, 8.0)
        20.0
    """
    outside = 0.0
    for index, count in enumerate(histogram.counts):
        start, end = histogram.edges[index], histogram.edges[index + 1]
        if end <= start:
            below = low is not None and start < low
            above = high is not None and start > high
            outside += count if below or above else 0.0
            continue
        width = end - start
        if low is not None:
            outside += count * max(0.0, min(end, low) - start) / width
        if high is not None:
            outside += count * max(0.0, end - max(start, high)) / width
    return outside


def _compatible(expected: str, actual: str) -> bool:
    return expected == actual or (expected == "float" and actual == "int")


def _anomaly(
    schema: DataSchema,
    feature: FeatureSchema,
    kind: AnomalyKind,
    split: str,
    description: str,
    *,
    fraction: float | None = None,
    examples: tuple[str, ...] = (),
) -> Anomaly:
    return Anomaly(
        feature=feature.name,
        kind=kind,
        severity=schema.severity_of(kind, feature),
        description=description,
        split=split,
        fraction=fraction,
        examples=examples,
    )
