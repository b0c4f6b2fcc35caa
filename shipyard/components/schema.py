"""Schema components: infer a schema (TFX's SchemaGen), or pin a curated one (ImportSchemaGen).

Inference reads one split's statistics (the train split by default) and writes, per feature:

- **type**: the type the statistics report; but a text column whose values are mostly
  (more than half) numbers, with some words, is typed `int` (all of its numbers integers)
  or `float`: ingest read it as text because of the words, which validation then reports
  (`wrong_type`). A text column of numbers only was declared text on purpose: it stays text.
- **presence**: `required` when no value is missing; otherwise optional with
  `min_fraction` = the observed present fraction minus `PRESENCE_MARGIN` (0.1), rounded
  down to a hundredth: a split may miss a few more values, not many more.
- **domain** (string features): the distinct values, sorted, when there are at most
  `max_domain_size` (50) of them and each occurs `MIN_COUNT_PER_VALUE` (5) times on
  average, i.e. `distinct * 5 <= non-missing values`. Names, ids and free text get none.
- **range** (int and float features): the observed minimum and maximum. Other data often
  exceeds it, so an `out_of_range` anomaly is a warning until the schema raises it.
- **value_count** (list features): the observed shortest and longest list.
- **not_in: [SERVING]** for the `label` feature, if one is named.

The schema also lists the environments `TRAINING` (the default) and `SERVING`, and default
skew and drift checks with a threshold of `DEFAULT_THRESHOLD` (0.1) for every feature but
timestamps and dates; what they find is a warning, until the schema says otherwise.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.artifacts import Schema, Statistics
from shipyard.artifacts.schema import (
    SERVING,
    Comparator,
    DataSchema,
    FeatureSchema,
    NumericRange,
    ValueCountRange,
)
from shipyard.dsl import Out, component
from shipyard.dsl.parameters import invalid_parameter

if TYPE_CHECKING:
    from shipyard.artifacts.statistics import DatasetStatistics, FeatureStatistics

MAX_DOMAIN_SIZE = 50
MIN_COUNT_PER_VALUE = 5
PRESENCE_MARGIN = 0.1
DEFAULT_THRESHOLD = 0.1

FORMAT_HELP = """\
Per feature: type; presence: required | optional | {min_fraction: F};
  domain: [allowed strings]; range: {min: A, max: B}; value_count: {min: A, max: B} (lists);
  not_in: [ENVIRONMENT, ...] (e.g. the label: not_in: [SERVING]);
  skew, drift: off | {comparator: linf | jensen_shannon | psi | wasserstein, threshold: T};
  severity: {ANOMALY_KIND: error | warning}.
The top-level skew and drift apply to every feature that sets none (but timestamps and
dates): L-infinity distance for strings and bools, the Wasserstein distance in standard
deviations for numbers.
What they find is a warning; what a feature's own skew or drift finds is an error. So are
out_of_range anomalies warnings until `severity: {out_of_range: error}` says otherwise."""


def schema_header(source: str, rows: int) -> str:
    """Return the comment that heads an inferred schema file: where from, how to pin it."""
    return (
        f"Shipyard schema inferred from {source} ({rows} rows). Curate it, then pin it:\n"
        f"  in a pipeline: import_schema(path='schema.yaml') instead of infer_schema(...)\n"
        f"  on the command line: shipyard validate DATA --schema schema.yaml\n"
        f"Domains were inferred for string features with at most {MAX_DOMAIN_SIZE} values, "
        f"each seen {MIN_COUNT_PER_VALUE}+ times\non average; ranges are the observed "
        f"minimum and maximum.\n{FORMAT_HELP}\n"
    )


def schema_from_statistics(
    statistics: DatasetStatistics,
    *,
    label: str | None = None,
    max_domain_size: int = MAX_DOMAIN_SIZE,
) -> DataSchema:
    """Infer a schema from one split's statistics, by the rules in this module's docstring.

    Args:
        statistics: The statistics of one split.
        label: The label feature, marked absent in the SERVING environment.
        max_domain_size: The most distinct values a string feature may have to get a domain.

    Returns:
        The schema.

    Raises:
        InvalidParameterError: `label` is not a feature of the statistics.

    Example:
        >>> schema = schema_from_statistics(compute_dataset_statistics(table), label="species")
        >>> print(schema.to_yaml())
    """
    if label is not None and label not in statistics.features:
        raise invalid_parameter(
            "infer_schema",
            "label",
            f"one of the features ({', '.join(statistics.features)})",
            label,
        )
    features = {
        name: _infer_feature(
            feature, not_in=(SERVING,) if name == label else (), max_domain_size=max_domain_size
        )
        for name, feature in statistics.features.items()
    }
    return DataSchema(
        features=features,
        skew=Comparator(DEFAULT_THRESHOLD),
        drift=Comparator(DEFAULT_THRESHOLD),
    )


def _infer_feature(
    stats: FeatureStatistics, *, not_in: tuple[str, ...], max_domain_size: int
) -> FeatureSchema:
    rows = stats.count + stats.missing
    if stats.count == 0:
        min_fraction = 0.0
    elif stats.missing == 0:
        min_fraction = 1.0
    else:
        present = stats.count / rows
        min_fraction = max(0.0, math.floor(round((present - PRESENCE_MARGIN) * 100, 6)) / 100)
    domain = None
    strings = stats.string
    feature_type = stats.type
    # Mostly numbers with some words: ingest read it as text because of the words. (Only
    # numbers: text declared on purpose, such as zip codes read with column_types.)
    if stats.type == "string" and strings and stats.count / 2 < strings.numbers < stats.count:
        feature_type = "int" if strings.integers == strings.numbers else "float"
    elif (
        stats.type == "string"
        and strings is not None
        and 0 < strings.distinct <= max_domain_size
        and strings.distinct * MIN_COUNT_PER_VALUE <= stats.count
        and len(strings.top_values) == strings.distinct
    ):
        domain = tuple(sorted(value.value for value in strings.top_values))
    value_range = None
    numbers = stats.numeric
    if stats.type in ("int", "float") and numbers is not None:
        if numbers.min is not None and numbers.max is not None:
            value_range = NumericRange(numbers.min, numbers.max)
    value_count = None
    if stats.lists is not None:
        value_count = ValueCountRange(stats.lists.min_length, stats.lists.max_length)
    return FeatureSchema(
        name=stats.name,
        type=feature_type,
        min_fraction=min_fraction,
        domain=domain,
        range=value_range,
        value_count=value_count,
        not_in=not_in,
    )


@component
def infer_schema(
    statistics: Statistics,
    schema: Out[Schema],
    *,
    split: str = "train",
    label: str | None = None,
    max_domain_size: int = MAX_DOMAIN_SIZE,
) -> None:
    """Infer a schema from one split's statistics (SchemaGen); curate it, then pin it.

    Args:
        statistics: Statistics of the examples.
        schema: The inferred schema, as commented YAML.
        split: The split to infer from.
        label: The label feature: it is marked absent in the SERVING environment.
        max_domain_size: The most distinct values a string feature may have to get a domain.

    Raises:
        NotFoundError: The statistics have no such split.
        InvalidParameterError: `label` is not a feature, or `max_domain_size` is negative.

    Example:
        >>> stats = compute_statistics(examples=raw.outputs.examples)
        >>> inferred = infer_schema(statistics=stats.outputs.statistics, label="species")
    """
    if max_domain_size < 0:
        raise invalid_parameter("infer_schema", "max_domain_size", "an int >= 0", max_domain_size)
    split_statistics = statistics.read(split)
    inferred = schema_from_statistics(
        split_statistics, label=label, max_domain_size=max_domain_size
    )
    schema.save(
        inferred,
        header=schema_header(f"the {split!r} split", split_statistics.num_rows),
    )
    schema.properties["inferred_from"] = split


@component
def import_schema(schema: Out[Schema], *, path: Path) -> None:
    """Pin a curated schema file (ImportSchemaGen): the pipeline uses it instead of inferring.

    The path is resolved against the pipeline file and its content is part of the cache key,
    so editing the file re-runs the nodes downstream. The file is stored verbatim.

    Args:
        schema: The schema, as the file says.
        path: The YAML file, e.g. written by `shipyard schema DATA > schema.yaml`.

    Raises:
        NotFoundError: The file does not exist.
        DataError: It is not a valid schema; the message names each line and field.

    Example:
        >>> pinned = import_schema(path="schema.yaml")
        >>> validate_examples(statistics=..., schema=pinned.outputs.schema)
    """
    schema.import_file(path)
