"""The `validate_examples` component (TFX's ExampleValidator) and `validate_statistics`.

Validation reads statistics, and with the examples the few columns whose minimum or maximum
lies outside the schema's range, to count those values exactly. Every split is checked
against the schema's constraints (`shipyard.components.constraints`); two splits are
compared for skew and each split with the same split of a baseline for drift
(`shipyard.components.drift`). A failing validation raises `AnomaliesFound` after saving its
report: the runner publishes it, marks the node failed and skips what follows.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from shipyard.artifacts import Anomalies, AnomalyReport, Examples, Schema, Statistics
from shipyard.dsl import Out, component
from shipyard.dsl.parameters import invalid_parameter
from shipyard.errors import AnomaliesFound, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pyarrow as pa

    from shipyard.artifacts import Anomaly, DataSchema, DatasetStatistics
    from shipyard.components.constraints import ColumnReader

OnAnomaly = Literal["fail", "warn"]

logger = logging.getLogger(__name__)


def validate_statistics(
    statistics: Mapping[str, DatasetStatistics],
    schema: DataSchema,
    *,
    environment: str | None = None,
    baseline: Mapping[str, DatasetStatistics] | None = None,
    skew_splits: Sequence[str] = ("train", "eval"),
    component: str = "validate_examples",
    read_column: ColumnReader | None = None,
) -> AnomalyReport:
    """Check statistics against a schema; return every anomaly found.

    Args:
        statistics: Statistics by split.
        schema: The schema.
        environment: The environment the data comes from (default: the schema's default);
            features `not_in` it are not expected.
        baseline: Statistics of the previous span, by split: each split present in both is
            compared for drift.
        skew_splits: Two splits compared for skew (the first is the reference), or none.
            Skipped when the statistics lack either.
        component: The name that parameter errors mention.
        read_column: Reads one column of one split of the data: values outside a range
            are then counted exactly (only columns whose minimum or maximum is outside
            are read). Without it, their share is estimated from the histogram.

    Returns:
        The report; `report.errors` are the anomalies that stop a pipeline.

    Raises:
        InvalidParameterError: `environment` is not one of the schema's, or `skew_splits`
            is not two different splits.

    Example:
        >>> report = validate_statistics({"eval": eval_stats}, schema, environment="SERVING")
        >>> print(report.summary())
    """
    from shipyard.components.constraints import check_split  # the checks load when they run
    from shipyard.components.drift import distribution_anomalies

    env = _environment(schema, environment, component)
    if len(skew_splits) not in (0, 2) or (
        len(skew_splits) == 2 and skew_splits[0] == skew_splits[1]
    ):
        raise InvalidParameterError(
            f"The 'skew_splits' parameter of {component} must be two different split names "
            f"(the reference first), or none. Got {list(skew_splits)!r} instead."
        )
    features = schema.features_in(env)
    found: list[Anomaly] = []
    for split, stats in statistics.items():
        found.extend(
            check_split(stats, schema, environment=env, split=split, read_column=read_column)
        )
    if len(skew_splits) == 2 and all(split in statistics for split in skew_splits):
        first, second = skew_splits
        found.extend(
            distribution_anomalies(
                statistics[first].features,
                statistics[second].features,
                schema,
                features,
                check="skew",
                where=f"{first} vs {second}",
                change=f"skews between {first!r} and {second!r}",
            )
        )
    for split, stats in statistics.items():
        if baseline is not None and split in baseline:
            found.extend(
                distribution_anomalies(
                    baseline[split].features,
                    stats.features,
                    schema,
                    features,
                    check="drift",
                    where=split,
                    change=f"drifted from the baseline in {split!r}",
                )
            )
    return AnomalyReport(anomalies=tuple(found), environment=env, splits=tuple(statistics))


def anomalies_error(report: AnomalyReport) -> AnomaliesFound:
    """Return the error a failing validation raises: every anomaly, errors first."""
    ordered = [*report.errors, *report.warnings]
    listed = "\n".join(f"  {anomaly.line()}" for anomaly in ordered)
    return AnomaliesFound(
        f"the data does not match its schema: {report.summary()}\n{listed}",
        hint="Fix the data, or update the schema if the change is expected. "
        'With on_anomaly="warn" the anomalies are recorded and the run goes on.',
    )


def _column_reader(examples: Examples) -> ColumnReader:
    def read_column(split: str, column: str) -> pa.ChunkedArray:
        return examples.read(split, columns=[column]).column(column)

    return read_column


def _environment(schema: DataSchema, environment: str | None, component: str) -> str | None:
    if environment is None:
        return schema.default_environment
    if environment not in schema.environments:
        expected = (
            f"one of the schema's environments ({', '.join(schema.environments)})"
            if schema.environments
            else "None: the schema lists no environments"
        )
        raise invalid_parameter(component, "environment", expected, environment)
    return environment


@component
def validate_examples(
    statistics: Statistics,
    schema: Schema,
    anomalies: Out[Anomalies],
    *,
    examples: Examples | None = None,
    baseline: Statistics | None = None,
    environment: str | None = None,
    on_anomaly: OnAnomaly = "fail",
    skew_splits: list[str] = ["train", "eval"],  # noqa: B006 - a JSON parameter; never mutated
) -> None:
    """Validate statistics against a schema, as TFX's ExampleValidator does.

    Checks columns, types, presence, domains, ranges and list lengths of every split, the
    skew between two splits and, with a baseline, the drift of each split. Values of the
    wrong type (words in a column the schema types as a number) are counted exactly.

    Args:
        statistics: Statistics of the examples, every split of which is validated.
        schema: The schema (inferred, or pinned with `import_schema`).
        anomalies: What was found, as JSON and an HTML report. Published even when the
            run stops on them, so the report is there to read.
        examples: The examples the statistics describe: values outside a range are then
            counted exactly, reading only the columns whose minimum or maximum is outside
            it. Without them, the share is estimated from the statistics' histogram.
        baseline: Statistics of the previous span, compared split by split for drift.
        environment: Where the data comes from (`TRAINING`, `SERVING`; default: the
            schema's default). Features `not_in` it are not expected.
        on_anomaly: "fail" raises when there is an anomaly of severity error, listing them
            all, which stops the run downstream (the anomalies are published and recorded
            all the same); "warn" records them and goes on.
        skew_splits: The two splits compared for skew (the first is the reference), or [].

    Raises:
        AnomaliesFound: `on_anomaly` is "fail" and there are errors.
        InvalidParameterError: `environment` or `skew_splits` is not valid for the schema.

    Example:
        >>> checked = validate_examples(
        ...     statistics=stats.outputs.statistics,
        ...     schema=pinned.outputs.schema,
        ...     examples=raw.outputs.examples,
        ... )
    """
    report = validate_statistics(
        statistics.load(),
        schema.load(),
        environment=environment,
        baseline=None if baseline is None else baseline.load(),
        skew_splits=skew_splits,
        read_column=None if examples is None else _column_reader(examples),
    )
    anomalies.save(report)
    if report.errors and on_anomaly == "fail":
        raise anomalies_error(report)
    for anomaly in report.anomalies:
        logger.warning("%s", anomaly.line())
