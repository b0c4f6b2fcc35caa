"""The reference read from data (`--reference DATA`), and output baselines from the logs.

`compute_reference` summarises reference data once with the statistics component, its
columns named as the request log names them; `add_baselines` gives the output columns the
reference lacks (training data has labels, not predictions) a baseline: the first log file
that holds them.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from shipyard.monitoring.counts import scalar_values
from shipyard.monitoring.reference import Reference, build_reference, column_reference
from shipyard.monitoring.sources import display_path, read_batches

if TYPE_CHECKING:
    import pyarrow as pa
    from fsspec import AbstractFileSystem

    from shipyard.artifacts import DataSchema
    from shipyard.monitoring.sources import LogFile

LOG_COLUMNS = ("model", "version", "request_id", "latency_ms")
"""The request log's own columns besides the timestamp: read, never monitored as features."""
OUTPUT_COLUMNS = ("class_ids", "class_labels", "probabilities", "predictions")
"""The request log's output columns: their drift is prediction drift."""


def compute_reference(source: str, schema: DataSchema | None, timestamp: str) -> Reference:
    """Read reference data and compute its statistics and bins, once."""
    from shipyard.components.ingest import load_dataset
    from shipyard.components.statistics import compute_dataset_statistics

    table = _reference_columns(load_dataset(source), timestamp)
    statistics = compute_dataset_statistics(table)
    outputs = frozenset(c for c in OUTPUT_COLUMNS if c in table.schema.names)
    return build_reference(statistics, source=source, schema=schema, outputs=outputs)


def _reference_columns(table: pa.Table, timestamp: str) -> pa.Table:
    """The reference's columns as the log names them.

    A request log used as the reference loses its own columns. In other data, a feature
    named like one of them is renamed `input.NAME`, as the server's log writes it.
    """
    if timestamp != "timestamp" and timestamp in table.schema.names:
        table = table.drop_columns([timestamp])  # the event time of data logged elsewhere
    names = table.schema.names
    own = ("timestamp", *LOG_COLUMNS)
    if "request_id" in names and "model" in names:
        table = table.drop_columns([c for c in own if c in names])
    else:
        table = table.rename_columns([f"input.{c}" if c in own else c for c in names])
    return _scalar_outputs(table)


def _scalar_outputs(table: pa.Table) -> pa.Table:
    """One value per row of each output; class ids as strings, compared class by class."""
    import pyarrow as pa

    for index, name in enumerate(table.schema.names):
        if name in OUTPUT_COLUMNS:
            values = scalar_values(table.column(name))
            if name == "class_ids":
                values = values.cast(pa.string())
            table = table.set_column(index, name, values)
    return table


def reference_key(source: str, schema: DataSchema | None) -> str:
    """Identify the reference data (path, size, modification time) and the schema."""
    try:
        stat = os.stat(source)
        found = f"{os.path.abspath(source)}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        found = source
    if schema is None:
        return found
    return f"{found}:{hashlib.sha256(schema.to_yaml().encode('utf-8')).hexdigest()[:16]}"


def add_baselines(
    fs: AbstractFileSystem,
    file: LogFile,
    columns: set[str],
    reference: Reference,
    schema: DataSchema | None,
) -> None:
    """Give the output columns the reference lacks a baseline: this file's values."""
    missing = [c for c in OUTPUT_COLUMNS if c in columns and c not in reference.columns]
    if not missing:
        return
    import pyarrow as pa

    from shipyard.components.statistics import compute_dataset_statistics

    batches = list(read_batches(fs, file, missing))
    if not batches:
        return
    table = _scalar_outputs(pa.Table.from_batches(batches))
    statistics = compute_dataset_statistics(table)
    for name in missing:
        found = column_reference(statistics.features[name], schema=schema, role="output")
        if isinstance(found, str):
            reference.skipped[name] = found
        else:
            reference.columns[name] = found
            reference.baselines[name] = display_path(file.path)
