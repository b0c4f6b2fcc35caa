"""The reference read from data (`--reference DATA`), and output baselines from the logs.

`compute_reference` summarises reference data once with the statistics component, its
columns named as the request log names them; `add_baselines` gives the output columns the
reference lacks (training data has labels, not predictions) a baseline: the first log file
that holds them.
"""

from __future__ import annotations

import hashlib
import os
import threading
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
    return _summarise(_read_reference(source, timestamp), source, schema)


def _read_reference(source: str, timestamp: str) -> pa.Table:
    from shipyard.components.ingest import load_dataset

    return _reference_columns(load_dataset(source), timestamp)


def _summarise(table: pa.Table, source: str, schema: DataSchema | None) -> Reference:
    from shipyard.components.statistics import compute_dataset_statistics

    statistics = compute_dataset_statistics(table)
    outputs = frozenset(c for c in OUTPUT_COLUMNS if c in table.schema.names)
    return build_reference(statistics, source=source, schema=schema, outputs=outputs)


class ReferencePrefetch:
    """`compute_reference` begun on a thread while the caller opens the store.

    Reading the reference file and summarising it release the GIL, so they overlap the
    store's opening (importing SQLAlchemy, reading the monitor's state) instead of following
    it. A monitor whose state already holds this reference cancels the prefetch: it stops
    at its next step (after the imports the monitor needs anyway, or after the read).

    Example:
        >>> ahead = ReferencePrefetch("data/train.parquet", None, "timestamp")
        >>> reference = ahead.result()  # or ahead.cancel()
    """

    def __init__(self, source: str, schema: DataSchema | None, timestamp: str) -> None:
        self.key = reference_key(source, schema)
        self._args = (source, schema, timestamp)
        self._cancelled = threading.Event()
        self._reference: Reference | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="shipyard-reference", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        source, schema, timestamp = self._args
        try:
            import pyarrow.compute
            import pyarrow.parquet  # noqa: F401  (the monitor reads with both)

            if self._cancelled.is_set():
                return
            table = _read_reference(source, timestamp)
            if not self._cancelled.is_set():
                self._reference = _summarise(table, source, schema)
        except BaseException as error:  # raised again by `result`, in the caller's thread
            self._error = error

    def result(self) -> Reference:
        """The reference, once computed; the computation's error if it failed.

        Raises:
            DataError: The reference cannot be read (as `compute_reference` raises it).
        """
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._reference is None:  # cancelled, then asked for after all
            source, schema, timestamp = self._args
            return compute_reference(source, schema, timestamp)
        return self._reference

    def cancel(self) -> None:
        """Stop computing at the next step: the reference is not needed."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """Whether `cancel` was called."""
        return self._cancelled.is_set()


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
