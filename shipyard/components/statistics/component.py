"""The `compute_statistics` component: statistics of every split of an `Examples` artifact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.artifacts import Examples, Statistics
from shipyard.components.statistics.dataset import (
    HISTOGRAM_BUCKETS,
    QUANTILE_SAMPLE_ROWS,
    compute_dataset_statistics,
)
from shipyard.components.statistics.partial import StatisticsOptions
from shipyard.components.statistics.ray_data import ray_statistics, use_ray
from shipyard.dsl import Out, component

if TYPE_CHECKING:
    from shipyard.artifacts.statistics import DatasetStatistics


@component
def compute_statistics(
    examples: Examples,
    statistics: Out[Statistics],
    *,
    weight_column: str | None = None,
    slice_columns: list[str] = [],  # noqa: B006 - a JSON parameter; never mutated
    histogram_buckets: int = HISTOGRAM_BUCKETS,
    quantile_sample_rows: int = QUANTILE_SAMPLE_ROWS,
) -> None:
    """Summarize every split of `examples` into per-feature statistics (TFX StatisticsGen).

    Args:
        examples: The dataset; each split is read from its Parquet files.
        statistics: Receives one `DatasetStatistics` per split.
        weight_column: A numeric column of example weights for the `weighted_*` figures.
        slice_columns: Columns whose values slice each split (`slices["column=value"]`).
        histogram_buckets: Buckets of the equal-width histograms.
        quantile_sample_rows: Quantiles are exact up to this many values per column, and
            estimated from a uniform sample of this many beyond.

    On a Ray cluster (the node runs under the Ray engine), a split of at least
    `ray_data.RAY_MIN_ROWS` rows (`SHIPYARD_STATISTICS_RAY_MIN_ROWS` overrides it) is
    summarized by Ray Data tasks, one per Parquet row group, whose partial statistics are
    merged: the same statistics (`partial` says which figures agree to rounding only).

    Raises:
        InvalidParameterError: A weight or slice column does not exist in a split.

    Example:
        >>> stats = compute_statistics(examples=ingest(source="data.csv").outputs.examples)
        >>> infer_schema(statistics=stats.outputs.statistics)
    """
    options = StatisticsOptions(
        weight_column, tuple(slice_columns), histogram_buckets, quantile_sample_rows
    )
    computed = {split: _split_statistics(examples, split, options) for split in examples.splits}
    statistics.save(computed)  # one save: the report of every split is rendered once
    statistics.properties["rows"] = {split: stats.num_rows for split, stats in computed.items()}


def _split_statistics(
    examples: Examples, split: str, options: StatisticsOptions
) -> DatasetStatistics:
    """Summarize one split: on Ray Data when on Ray and large, here otherwise."""
    directory = examples.path / split
    if use_ray(directory):
        return ray_statistics(directory, options)
    return compute_dataset_statistics(
        examples.read(split),
        weight_column=options.weight_column,
        slice_columns=options.slice_columns,
        histogram_buckets=options.histogram_buckets,
        quantile_sample_rows=options.quantile_sample_rows,
    )
