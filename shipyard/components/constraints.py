"""Checks of one split's statistics against the schema's per-feature constraints.

Each check reads the statistics (the rows only to count values out of range): columns
missing or new, types, presence, string domains (exact: statistics list every value when
there are at most 1,000), numeric ranges and list lengths. Values of the wrong type are
counted exactly from the statistics (a text column holding words among numbers). Values
outside a range are counted exactly when the data can be read (`read_column`: only the
columns whose minimum or maximum is outside are read); from statistics alone the share is
estimated from the equal-width histogram, values taken as uniform within a bucket, and
said to be.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from shipyard.artifacts import Anomaly
from shipyard.artifacts.anomalies import percent
from shipyard.components.ingest.columns import INTEGER_PATTERN, NUMBER_PATTERN

if TYPE_CHECKING:
    import pyarrow as pa

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


class ColumnReader(Protocol):
    """Reads one column of one split of the data, to count values outside a range exactly."""

    def __call__(self, split: str, column: str) -> pa.ChunkedArray | pa.Array: ...


def check_split(
    statistics: DatasetStatistics,
    schema: DataSchema,
    *,
    environment: str | None,
    split: str,
    read_column: ColumnReader | None = None,
) -> list[Anomaly]:
    """Return every anomaly of one split against the schema, feature by feature.

    Args:
        statistics: The split's statistics.
        schema: The schema.
        environment: Features `not_in` it are neither expected nor reported.
        split: The split's name, for the anomalies and their descriptions.
        read_column: Reads a column of the split: values outside a range are then counted
            exactly, reading only the columns whose minimum or maximum is outside it.
            Without it, the share is estimated from the statistics' histogram.
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
        found.extend(_check_feature(schema, feature, stats, split, read_column))
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
    schema: DataSchema,
    feature: FeatureSchema,
    stats: FeatureStatistics,
    split: str,
    read_column: ColumnReader | None,
) -> list[Anomaly]:
    name = feature.name
    if stats.count > 0 and not _compatible(feature.type, stats.type):
        wrong = _wrong_type(schema, feature, stats, split)
        return [] if wrong is None else [wrong]
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
        found.extend(_check_range(schema, feature, stats, split, read_column))
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


def _wrong_type(
    schema: DataSchema, feature: FeatureSchema, stats: FeatureStatistics, split: str
) -> Anomaly | None:
    """The values of a column that are not of the schema's type: how many, which.

    A column the schema types as a number but read as text (words among the numbers) is
    counted exactly from its statistics: the values that do not read as numbers (or as
    integers, for `int`). None when they all do: the column is text because of words in
    another split (ingest types a column once for every split), or was declared text.
    Any other mismatch concerns the whole column.
    """
    name, expected = feature.name, feature.type
    strings = stats.string
    pattern = INTEGER_PATTERN if expected == "int" else NUMBER_PATTERN
    if expected in ("int", "float") and stats.type == "string" and strings is not None:
        if strings.distinct <= len(strings.top_values):  # every value is listed
            fitting = sum(v.count for v in strings.top_values if re.match(pattern, v.value))
        else:
            fitting = strings.integers if expected == "int" else strings.numbers
        wrong = max(0, stats.count - round(fitting))
        if not wrong:
            return None
        unit = "an integer" if expected == "int" else "a number"
        candidates = [*strings.non_numbers, *strings.top_values]
        shown = list(dict.fromkeys(v.value for v in candidates if not re.match(pattern, v.value)))
        what = (
            f"none of its {stats.count:,} values in {split!r} is {unit}"
            if wrong == stats.count
            else f"{wrong:,} of its {stats.count:,} values in {split!r} "
            f"({percent(wrong / stats.count)}) {'is' if wrong == 1 else 'are'} not {unit}"
        )
        examples = tuple(shown[:MAX_EXAMPLES])
        listed = f": {', '.join(map(repr, examples))}" if examples else ""
        return _anomaly(
            schema,
            feature,
            "wrong_type",
            split,
            f"{name!r} should be {expected} but {what}{listed}. Fix the values, or declare them "
            f"missing (ingest's null_values), or change its type in the schema.",
            fraction=wrong / stats.count,
            examples=examples,
            count=wrong,
        )
    return _anomaly(
        schema,
        feature,
        "wrong_type",
        split,
        f"{name!r} should be {expected} but is {stats.type} in {split!r} (all "
        f"{stats.count:,} values). Fix the data, or change its type in the schema.",
        fraction=1.0,
        examples=tuple(v.value for v in (strings.top_values if strings else [])[:MAX_EXAMPLES]),
        count=stats.count,
    )


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
    schema: DataSchema,
    feature: FeatureSchema,
    stats: FeatureStatistics,
    split: str,
    read_column: ColumnReader | None,
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
    low = "-inf" if bounds.min is None else f"{bounds.min:g}"
    high = "inf" if bounds.max is None else f"{bounds.max:g}"
    if read_column is not None:
        outside = count_outside(read_column(split, feature.name), bounds.min, bounds.max)
        if not outside:
            return []  # only infinities on a side the range leaves open
        how_many = f"{outside:,} of its {stats.count:,} values ({percent(outside / stats.count)})"
        count: int | None = outside
        share = outside / stats.count
    else:  # statistics only: estimated from the histogram
        estimate = share_outside(numbers.histogram, bounds.min, bounds.max) + numbers.infinite
        share = estimate / stats.count if stats.count else 0.0
        how_many = f"about {percent(share)} of its values, estimated from the histogram"
        count = None
    return [
        _anomaly(
            schema,
            feature,
            "out_of_range",
            split,
            f"{feature.name!r} has values outside its range [{low}, {high}] in {split!r}: "
            f"{', '.join(examples)} ({how_many}). Widen the range in the schema if they are "
            f"valid.",
            fraction=share,
            examples=tuple(examples),
            count=count,
        )
    ]


def count_outside(values: pa.ChunkedArray | pa.Array, low: float | None, high: float | None) -> int:
    """Return exactly how many values lie outside `[low, high]` (None: unbounded).

    Infinities count on the side they lie; missing values and NaN never count.

    Example:
        >>> count_outside(pa.array([1.0, 5.0, None, float("inf")]), 0.0, 4.0)
        2
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_integer(values.type) and not pa.types.is_floating(values.type):
        values = pc.cast(values, pa.float64())  # booleans, decimals
    below = pc.less(values, low) if low is not None else None
    above = pc.greater(values, high) if high is not None else None
    tests = [test for test in (below, above) if test is not None]
    if not tests:
        return 0
    either = tests[0] if len(tests) == 1 else pc.or_(tests[0], tests[1])
    return int(pc.sum(either).as_py() or 0)


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
    count: int | None = None,
) -> Anomaly:
    return Anomaly(
        feature=feature.name,
        kind=kind,
        severity=schema.severity_of(kind, feature),
        description=description,
        split=split,
        fraction=fraction,
        examples=examples,
        count=count,
    )
