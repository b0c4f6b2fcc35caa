"""`run_monitor`: read the new log files, count them into windows, measure, alert, record.

One run: load the state (`state`), list the logs (`sources`), read each file not read yet
into its own counts, merge them into the open windows only when the whole file was read (a
malformed file is reported and skipped, never half counted), advance the watermark, measure
every window this run changed or finished (`findings`), walk the alerts (`alerts`), record
the state in the store, then post the notifications.

Windows are tumbling, aligned on the epoch (`--window 1h`: 00:00-01:00, ...). The watermark
is the newest event time read; a window is finished once the watermark passes its end by
the allowed lateness, and a record of a finished window arriving later is counted as late
and dropped. Windows still open are measured as they stand (`complete: false`) and
measured again when more rows arrive.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.artifacts.arrays import from_numpy
from shipyard.errors import InvalidParameterError
from shipyard.monitoring.alerts import AlertBook, post_webhook, webhook_body
from shipyard.monitoring.counts import WindowCounts, count_rows, event_times_us, scalar_values
from shipyard.monitoring.decay import DecayOptions, firing_decay, measure_decay, walk_decay
from shipyard.monitoring.feedback import feedback_files
from shipyard.monitoring.findings import measure_window
from shipyard.monitoring.reference import Reference, build_reference, column_reference
from shipyard.monitoring.report import MonitoringReport, SkippedFile, history_entry
from shipyard.monitoring.sources import (
    UnreadableFile,
    display_path,
    list_files,
    read_batches,
    read_columns,
)
from shipyard.monitoring.state import HISTORY_WINDOWS, MonitorState, load_state, save_state

if TYPE_CHECKING:
    from collections.abc import Callable

    import pyarrow as pa
    from fsspec import AbstractFileSystem

    from shipyard.artifacts import DataSchema, DatasetStatistics
    from shipyard.monitoring.sources import LogFile
    from shipyard.store import MetadataStore

LOG_COLUMNS = ("model", "version", "request_id")
"""The request log's own columns besides the timestamp: read, never monitored as features."""
OUTPUT_COLUMNS = ("class_ids", "class_labels", "probabilities", "predictions")
"""The request log's output columns: their drift is prediction drift."""


@dataclass(frozen=True)
class MonitorOptions:
    """What `shipyard monitor` was asked to do (see its flags)."""

    logs: str
    name: str
    reference: str | None = None
    schema: DataSchema | None = None
    window_s: int = 3600
    lateness_s: int = 0
    timestamp: str = "timestamp"
    min_rows: int = 1000
    dataset_share: float = 0.5
    webhook: str | None = None
    find_reference: Callable[[str, int], tuple[DatasetStatistics, str]] | None = None
    """Without `reference`: find the training statistics of a model version (lineage)."""
    decay: DecayOptions | None = None
    """Measure decay when labels are stored beside the logs (`decay`); None: never."""


def run_monitor(options: MonitorOptions, store: MetadataStore | None) -> MonitoringReport:
    """Monitor the logs once: read what is new, measure, alert, and record the state.

    Args:
        options: The logs, the reference, the windows and the limits.
        store: Where the state is kept; None reads everything and keeps nothing.

    Raises:
        DataError: The logs or the reference cannot be found or read.
        InvalidParameterError: The options disagree with the monitor's recorded state, or
            no reference was given to a new monitor.
    """
    state = _check_state(None if store is None else load_state(store, options.name), options)
    fs, files = list_files(options.logs)
    reference = _reference(options, state, lambda: _served_version(fs, files))
    listed = {file.path for file in files}
    state.files = {path: size for path, size in state.files.items() if path in listed}
    reading = _Pass(options, state, reference)
    for file in files:
        reading.read(fs, file)
    reading.finish()
    report = reading.report
    _measure_decay(fs, files, options, state, report)
    if store is not None and (report.files_read or report.notifications):
        report.store_run = save_state(store, options.name, state, _summary(report))
    _notify(report, state, options, store)
    return report


class _Pass:
    """One run's reading of the new files into the windows, and its measuring of them."""

    def __init__(self, options: MonitorOptions, state: MonitorState, reference: Reference):
        self.options, self.state, self.reference = options, state, reference
        self.report = MonitoringReport(
            options.name, options.logs, reference, options.window_s, options.lateness_s
        )
        self.window_us = options.window_s * 1_000_000
        self.windows = {int(k): WindowCounts.from_json(v) for k, v in state.windows.items()}
        self.touched: set[int] = set()
        self.new_columns: set[str] = set()
        self.absent: set[str] = set()

    def read(self, fs: AbstractFileSystem, file: LogFile) -> None:
        """Count one file into the windows, unless it was read before or cannot be read."""
        known = self.state.files.get(file.path)
        if known is not None:
            self.report.files_known += 1
            if known != file.size_bytes:
                reason = "changed since it was read; not read again"
                self.report.skipped.append(SkippedFile(display_path(file.path), reason))
            return
        baselines = set(self.reference.baselines)
        try:
            counted = self._count_file(fs, file)
        except UnreadableFile as exc:
            self.report.skipped.append(SkippedFile(display_path(exc.path), exc.reason))
            for name in set(self.reference.baselines) - baselines:  # none from a bad file
                del self.reference.baselines[name], self.reference.columns[name]
            return
        self.state.files[file.path] = file.size_bytes
        self.report.files_read += 1
        windows, columns, latest = counted
        monitored = set(self.reference.columns)
        self.new_columns |= columns - monitored - {self.options.timestamp, *LOG_COLUMNS}
        features = {c for c in monitored if self.reference.columns[c].role == "feature"}
        self.absent |= features - columns
        if latest is not None:
            self.state.watermark_us = max(latest, self.state.watermark_us or latest)
        for start, counts in windows.items():
            self.touched.add(start)
            if start in self.windows:
                self.windows[start].merge(counts)
            else:
                self.windows[start] = counts

    def _count_file(
        self, fs: AbstractFileSystem, file: LogFile
    ) -> tuple[dict[int, WindowCounts], set[str], int | None]:
        """Count a whole file into its own windows; raise `UnreadableFile` if it cannot be."""

        options, state, report = self.options, self.state, self.report
        columns = set(read_columns(fs, file))
        _add_baselines(fs, file, columns, self.reference, options)
        monitored = [c for c in self.reference.columns if c in columns]
        wanted = [options.timestamp, *[c for c in LOG_COLUMNS if c in columns], *monitored]
        windows: dict[int, WindowCounts] = {}
        rows = late = untimed = 0
        latest: int | None = None
        for batch in read_batches(fs, file, wanted):
            times = event_times_us(batch, options.timestamp, display_path(file.path))
            rows += batch.num_rows
            keep = times >= 0
            untimed += int((~keep).sum())
            if state.closed_before_us is not None:
                too_late = keep & (times < state.closed_before_us)
                late += int(too_late.sum())
                keep &= ~too_late
            if not keep.any():
                continue
            kept = batch if keep.all() else batch.filter(from_numpy(keep))
            times = times[keep]
            starts = times - times % self.window_us
            found = count_rows(kept, self.reference, starts=starts, columns=monitored)
            for start, counts in found.items():
                if start in windows:
                    windows[start].merge(counts)
                else:
                    windows[start] = counts
            latest = max(int(times.max()), latest or 0)
        report.rows_read += rows
        report.late_rows += late
        state.late_rows += late
        report.rows_without_time += untimed
        return windows, columns, latest

    def finish(self) -> None:
        """Measure the changed and finished windows, walk the alerts, update the state."""
        options, state, report = self.options, self.state, self.report
        report.new_columns = sorted(self.new_columns - set(self.reference.skipped))
        report.absent_columns = sorted(self.absent)
        lateness_us = options.lateness_s * 1_000_000
        watermark = state.watermark_us
        book = AlertBook.from_json(options.name, state.alerts)
        finished = {
            start
            for start in self.windows
            if watermark is not None and start + self.window_us + lateness_us <= watermark
        }
        for start in sorted(self.touched | finished):
            figures = measure_window(
                self.windows[start],
                self.reference,
                window_us=self.window_us,
                complete=start in finished,
                min_rows=options.min_rows,
                dataset_share=options.dataset_share,
                schema_given=options.schema is not None,
            )
            report.windows.append(figures)
            report.notifications.extend(book.walk(figures, min_rows=options.min_rows))
            if start in finished:
                state.history.append(history_entry(figures))
                del self.windows[start]
                closed = start + self.window_us
                state.closed_before_us = max(closed, state.closed_before_us or closed)
        if options.webhook is None:
            book.pending = []  # logged and reported only
        state.history = state.history[-HISTORY_WINDOWS:]
        state.windows = {str(k): counts.to_json() for k, counts in sorted(self.windows.items())}
        state.reference = self.reference.to_json()
        state.alerts = book.to_json()
        report.watermark_us = watermark
        report.history = list(state.history)
        report.firing = list(book.firing.values())


def _measure_decay(
    fs: AbstractFileSystem,
    files: list[LogFile],
    options: MonitorOptions,
    state: MonitorState,
    report: MonitoringReport,
) -> None:
    """Join the labels beside the logs, if any, to every log file; alert on decay."""
    decay = options.decay
    labels = [] if decay is None else feedback_files(options.logs)
    if decay is None or not labels:
        return
    window_us = options.window_s * 1_000_000
    found = measure_decay(
        fs, files, labels, decay, window_us=window_us, timestamp=options.timestamp
    )
    notes = walk_decay(found, state.decay_alerts, monitor=options.name, min_labels=decay.min_labels)
    report.decay = found
    report.notifications.extend(notes)
    report.firing.extend(firing_decay(state.decay_alerts))
    if options.webhook is not None:
        state.alerts["pending"].extend(notes)


def _check_state(state: MonitorState | None, options: MonitorOptions) -> MonitorState:
    if state is None:
        return MonitorState(window_s=options.window_s, timestamp=options.timestamp)
    for flag, mine, recorded in (
        ("--window", options.window_s, state.window_s),
        ("--timestamp", options.timestamp, state.timestamp),
    ):
        if mine != recorded:
            raise InvalidParameterError(
                f"The {flag!r} option of shipyard monitor must stay what the monitor "
                f"{options.name!r} was started with ({recorded!r}). Got {mine!r} instead. "
                "Give another --name to start a new monitor."
            )
    return state


def _reference(
    options: MonitorOptions, state: MonitorState, served: Callable[[], tuple[str, int] | None]
) -> Reference:
    """Return the reference: `--reference`, else the state's, else the served version's."""
    if options.reference is None:
        if state.reference is not None:
            return Reference.from_json(state.reference)
        version = served() if options.find_reference is not None else None
        if options.find_reference is None or version is None:
            raise InvalidParameterError(
                "The '--reference' option of shipyard monitor is needed the first time a "
                f"monitor runs ({options.name!r} has no recorded reference, and its logs "
                "name no model version). Give the data the model was trained on, e.g. "
                "--reference data/train.parquet."
            )
        statistics, source = options.find_reference(*version)
        reference = build_reference(statistics, source=source, schema=options.schema)
        state.reference, state.reference_key = reference.to_json(), source
        return reference
    key = _reference_key(options.reference, options.schema)
    if state.reference is not None and state.reference_key == key:
        return Reference.from_json(state.reference)
    reference = compute_reference(options.reference, options.schema, options.timestamp)
    state.reference, state.reference_key = reference.to_json(), key
    return reference


def _served_version(fs: AbstractFileSystem, files: list[LogFile]) -> tuple[str, int] | None:
    """Return the model and version of the first readable log file, if it names them."""
    for file in files:
        try:
            for batch in read_batches(fs, file, ["model", "version"]):
                if {"model", "version"} <= set(batch.schema.names) and batch.num_rows:
                    model, version = batch.column("model")[0], batch.column("version")[0]
                    return str(model.as_py()), int(version.as_py())
        except UnreadableFile:
            continue
    return None


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


def _reference_key(source: str, schema: DataSchema | None) -> str:
    """Identify the reference data (path, size, modification time) and the schema."""
    try:
        stat = os.stat(source)
        found = f"{os.path.abspath(source)}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        found = source
    if schema is None:
        return found
    return f"{found}:{hashlib.sha256(schema.to_yaml().encode('utf-8')).hexdigest()[:16]}"


def _add_baselines(
    fs: AbstractFileSystem,
    file: LogFile,
    columns: set[str],
    reference: Reference,
    options: MonitorOptions,
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
        found = column_reference(statistics.features[name], schema=options.schema, role="output")
        if isinstance(found, str):
            reference.skipped[name] = found
        else:
            reference.columns[name] = found
            reference.baselines[name] = display_path(file.path)


def _notify(
    report: MonitoringReport,
    state: MonitorState,
    options: MonitorOptions,
    store: MetadataStore | None,
) -> None:
    """Post the pending notifications; record that they were delivered."""
    book = AlertBook.from_json(options.name, state.alerts)
    if not book.pending or options.webhook is None:
        return
    report.webhook_error = post_webhook(options.webhook, webhook_body(options.name, book.pending))
    if report.webhook_error is None:
        book.pending = []
        state.alerts = book.to_json()
        if store is not None:
            save_state(store, options.name, state, _summary(report))


def _summary(report: MonitoringReport) -> dict[str, object]:
    return {
        "files_read": report.files_read,
        "rows_read": report.rows_read,
        "windows": len(report.windows),
        "firing": len(report.firing),
    }
