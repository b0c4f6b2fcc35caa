"""`run_monitor`: read the new log files, count them into windows, measure, alert, record.

One run: load the state (`state`), list the logs (`sources`), read each file not read yet
into its own counts, merge them into the panes only when the whole file was read (a
malformed file is reported once, remembered and skipped, never half counted), advance the
watermark, measure every window this run changed or finished (`findings`, and each
`Measure`), walk the alerts (`alerts`), post the notifications, then record the report and
the state at once (`StateKeeper.record`).

Windows are tumbling or sliding, aligned on the epoch, and counted in panes (`windows`).
The watermark is the newest event time read; a window is finished once the watermark passes
its end by the allowed lateness, and a record whose windows are all finished is counted as
late and dropped. Windows still open are measured as they stand (`complete: false`) and
measured again when more rows arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.artifacts.arrays import from_numpy
from shipyard.errors import InvalidParameterError
from shipyard.monitoring.alerts import AlertBook, post_webhook, webhook_body
from shipyard.monitoring.counts import WindowCounts, count_rows, event_times_us
from shipyard.monitoring.decay import DecayOptions, measure_decay
from shipyard.monitoring.decay_alerts import firing_decay, walk_decay
from shipyard.monitoring.feedback import feedback_files
from shipyard.monitoring.findings import measure_window
from shipyard.monitoring.measures import LatencyMeasure
from shipyard.monitoring.reference import Reference, build_reference
from shipyard.monitoring.reference_data import (
    LOG_COLUMNS,
    add_baselines,
    compute_reference,
    reference_key,
)
from shipyard.monitoring.report import MonitorResult, SkippedFile, history_entry
from shipyard.monitoring.sources import (
    UnreadableFile,
    display_path,
    list_files,
    read_batches,
    read_columns,
)
from shipyard.monitoring.state import HISTORY_WINDOWS, MonitorState
from shipyard.monitoring.versions import file_version, first_reference, other_reference
from shipyard.monitoring.windows import Windowing

if TYPE_CHECKING:
    from collections.abc import Callable

    from fsspec import AbstractFileSystem

    from shipyard.artifacts import DataSchema
    from shipyard.monitoring.measures import Measure
    from shipyard.monitoring.reference_data import ReferencePrefetch
    from shipyard.monitoring.sources import LogFile
    from shipyard.monitoring.state import StateKeeper
    from shipyard.monitoring.versions import FoundReference


@dataclass(frozen=True)
class MonitorOptions:
    """What `shipyard monitor` was asked to do (see its flags).

    `measures` are the per-window measures beyond the columns' (request latency by
    default); add one to measure something more per window.
    """

    logs: str
    name: str
    reference: str | None = None
    schema: DataSchema | None = None
    window_s: int = 3600
    slide_s: int | None = None
    lateness_s: int = 0
    timestamp: str = "timestamp"
    min_rows: int = 1000
    dataset_share: float = 0.5
    webhook: str | None = None
    measures: tuple[Measure, ...] = (LatencyMeasure(),)
    find_reference: Callable[[str, int], FoundReference] | None = None
    """Without `reference`: find the training statistics of a model version (lineage)."""
    decay: DecayOptions | None = None
    """Measure decay when labels are stored beside the logs (`decay`); None: never."""
    prefetch: ReferencePrefetch | None = None
    """`reference` being computed ahead (the CLI starts it before opening the store); used
    if the monitor must compute its reference, cancelled if its state already holds it."""

    @property
    def windowing(self) -> Windowing:
        """The windows' length and slide."""
        return Windowing.of(self.window_s, self.slide_s)


def run_monitor(options: MonitorOptions, keeper: StateKeeper | None) -> MonitorResult:
    """Monitor the logs once: read what is new, measure, alert, and record the state.

    Args:
        options: The logs, the reference, the windows and the limits.
        keeper: Where the state is kept; None reads everything and keeps nothing.

    Raises:
        DataError: The logs or the reference cannot be found or read.
        InvalidParameterError: The options disagree with the monitor's recorded state, or
            no reference was given to a new monitor, or the logs' versions were trained
            from different statistics.
    """
    state = _check_state(None if keeper is None else keeper.load(), options)
    fs, files = list_files(options.logs)
    listed = {file.path for file in files}
    state.files = {path: size for path, size in state.files.items() if path in listed}
    state.skipped = {path: seen for path, seen in state.skipped.items() if path in listed}
    new = [file for file in files if file.path not in state.files]
    reference = _reference(options, state, lambda: _served(options, state, fs, new))
    reading = _Pass(options, state, reference)
    for file in files:
        reading.read(fs, file)
    reading.finish()
    report = reading.report
    _measure_decay(fs, files, options, state, report)
    _notify(report, state, options)
    if keeper is not None:
        keeper.record(report, state)
    return report


class _Pass:
    """One run's reading of the new files into the panes, and its measuring of windows."""

    def __init__(self, options: MonitorOptions, state: MonitorState, reference: Reference):
        self.options, self.state, self.reference = options, state, reference
        self.report = MonitorResult(
            options.name,
            options.logs,
            reference,
            options.window_s,
            options.lateness_s,
            slide_s=options.windowing.slide_us // 1_000_000,
        )
        self.windowing = options.windowing
        self.panes = {int(k): WindowCounts.from_json(v) for k, v in state.panes.items()}
        self.touched: set[int] = set()
        self.new_columns: set[str] = set()
        self.absent: set[str] = set()

    def read(self, fs: AbstractFileSystem, file: LogFile) -> None:
        """Count one file into the panes, unless it was read before or cannot be read."""
        known = self.state.files.get(file.path)
        if known is not None:
            self.report.files_known += 1
            if known != file.size_bytes:
                self._skip(file, "changed since it was read; not read again")
            return
        seen = self.state.skipped.get(file.path)
        if seen is not None and seen["size_bytes"] == file.size_bytes:
            self.report.skipped.append(SkippedFile(display_path(file.path), seen["reason"], False))
            return  # reported by an earlier run; tried again once its size changes
        baselines = set(self.reference.baselines)
        try:
            self._check_version(fs, file)
            counted = self._count_file(fs, file)
        except UnreadableFile as exc:
            self._skip(file, exc.reason)
            for name in set(self.reference.baselines) - baselines:  # none from a bad file
                del self.reference.baselines[name], self.reference.columns[name]
            return
        self.state.skipped.pop(file.path, None)
        self.state.files[file.path] = file.size_bytes
        self.report.files_read += 1
        panes, columns, latest = counted
        monitored = set(self.reference.columns)
        self.new_columns |= columns - monitored - {self.options.timestamp, *LOG_COLUMNS}
        features = {c for c in monitored if self.reference.columns[c].role == "feature"}
        self.absent |= features - columns
        if latest is not None:
            self.state.watermark_us = max(latest, self.state.watermark_us or latest)
        for start, counts in panes.items():
            self.touched.add(start)
            if start in self.panes:
                self.panes[start].merge(counts)
            else:
                self.panes[start] = counts

    def _skip(self, file: LogFile, reason: str) -> None:
        """Report a file not read, once: an earlier run's report of it is remembered."""
        seen = self.state.skipped.get(file.path)
        new = seen is None or seen["size_bytes"] != file.size_bytes or seen["reason"] != reason
        self.state.skipped[file.path] = {"size_bytes": file.size_bytes, "reason": reason}
        self.report.skipped.append(SkippedFile(display_path(file.path), reason, new))

    def _check_version(self, fs: AbstractFileSystem, file: LogFile) -> None:
        """Refuse a file of a version trained from other statistics than the reference's."""
        find, state = self.options.find_reference, self.state
        if not state.versions or find is None or state.reference_key is None:
            return  # the reference is --reference DATA: it serves every version
        version = file_version(fs, file)
        if version is not None:
            reference = (state.reference_key, self.reference.source)
            why = other_reference(version, state.versions, find, reference)
            if why is not None:
                raise UnreadableFile(file.path, why)

    def _count_file(
        self, fs: AbstractFileSystem, file: LogFile
    ) -> tuple[dict[int, WindowCounts], set[str], int | None]:
        """Count a whole file into its own panes; raise `UnreadableFile` if it cannot be."""
        options, state, report = self.options, self.state, self.report
        columns = set(read_columns(fs, file))
        add_baselines(fs, file, columns, self.reference, options.schema)
        monitored = [c for c in self.reference.columns if c in columns]
        own = [c for c in LOG_COLUMNS if c in columns]
        measured = [c for m in options.measures for c in m.columns if c in columns]
        wanted = list(dict.fromkeys([options.timestamp, *own, *measured, *monitored]))
        panes: dict[int, WindowCounts] = {}
        rows = late = untimed = 0
        latest: int | None = None
        categories = [c for c in monitored if self.reference.columns[c].categorical]
        for batch in read_batches(fs, file, wanted, categories=categories):
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
            starts = self.windowing.pane_starts(times)
            found = count_rows(
                kept, self.reference, starts=starts, columns=monitored, measures=options.measures
            )
            for start, counts in found.items():
                if start in panes:
                    panes[start].merge(counts)
                else:
                    panes[start] = counts
            latest = max(int(times.max()), latest or 0)
        report.rows_read += rows
        report.late_rows += late
        state.late_rows += late
        report.rows_without_time += untimed
        return panes, columns, latest

    def finish(self) -> None:
        """Measure the changed and finished windows, walk the alerts, update the state."""
        options, state, report, windowing = self.options, self.state, self.report, self.windowing
        report.new_columns = sorted(self.new_columns - set(self.reference.skipped))
        report.absent_columns = sorted(self.absent)
        lateness_us = options.lateness_s * 1_000_000
        watermark = state.watermark_us
        closed = state.closed_before_us
        book = AlertBook.from_json(options.name, state.alerts)
        starts = windowing.windows_of_panes(self.panes)
        finished = {s for s in starts if windowing.finished(s, watermark, lateness_us)}
        changed = windowing.windows_of_panes(self.touched) | finished
        for start in sorted(s for s in changed if closed is None or s >= closed):
            parts = [self.panes[p] for p in windowing.panes_of(start) if p in self.panes]
            figures = measure_window(
                WindowCounts.merged(start, parts),
                self.reference,
                window_us=windowing.window_us,
                complete=start in finished,
                min_rows=options.min_rows,
                dataset_share=options.dataset_share,
                schema_given=options.schema is not None,
                measures=options.measures,
            )
            report.windows.append(figures)
            report.notifications.extend(book.walk(figures, min_rows=options.min_rows))
            if start in finished:
                state.history.append(history_entry(figures))
                ends = windowing.closed_before(start)
                state.closed_before_us = max(ends, state.closed_before_us or ends)
        cut = state.closed_before_us
        if cut is not None:  # no open window holds these panes any more
            self.panes = {p: counts for p, counts in self.panes.items() if p >= cut}
        if options.webhook is None:
            book.pending = []  # logged and reported only
        state.history = state.history[-HISTORY_WINDOWS:]
        state.panes = {str(k): counts.to_json() for k, counts in sorted(self.panes.items())}
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
    report: MonitorResult,
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
    slide_s = None if options.slide_s in (None, options.window_s) else options.slide_s
    if state is None:
        return MonitorState(window_s=options.window_s, timestamp=options.timestamp, slide_s=slide_s)
    for flag, mine, recorded in (
        ("--window", options.window_s, state.window_s),
        ("--slide", slide_s or options.window_s, state.slide_s or state.window_s),
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
    options: MonitorOptions,
    state: MonitorState,
    served: Callable[[], FoundReference | None],
) -> Reference:
    """Return the reference: `--reference`, else the state's, else the served version's."""
    if options.reference is None:
        if state.reference is not None:
            return Reference.from_json(state.reference)
        found = served()
        if found is None:
            raise InvalidParameterError(
                "The '--reference' option of shipyard monitor is needed the first time a "
                f"monitor runs ({options.name!r} has no recorded reference, and its logs "
                "name no model version). Give the data the model was trained on, e.g. "
                "--reference data/train.parquet."
            )
        reference = build_reference(found.statistics, source=found.source, schema=options.schema)
        state.reference, state.reference_key = reference.to_json(), found.key
        return reference
    key = reference_key(options.reference, options.schema)
    ahead = options.prefetch if options.prefetch and options.prefetch.key == key else None
    if state.reference is not None and state.reference_key == key:
        if ahead is not None:
            ahead.cancel()
        return Reference.from_json(state.reference)
    if ahead is not None:
        reference = ahead.result()
    else:
        reference = compute_reference(options.reference, options.schema, options.timestamp)
    state.reference, state.reference_key, state.versions = reference.to_json(), key, {}
    return reference


def _served(
    options: MonitorOptions, state: MonitorState, fs: AbstractFileSystem, files: list[LogFile]
) -> FoundReference | None:
    """The one training reference of the versions in the new files (lineage), if any."""
    if options.find_reference is None:
        return None
    found = first_reference(fs, files, options.find_reference)
    if found is None:
        return None
    state.versions = found[1]
    return found[0]


def _notify(report: MonitorResult, state: MonitorState, options: MonitorOptions) -> None:
    """Post the pending notifications; forget them once delivered."""
    book = AlertBook.from_json(options.name, state.alerts)
    if not book.pending or options.webhook is None:
        return
    report.webhook_error = post_webhook(options.webhook, webhook_body(options.name, book.pending))
    if report.webhook_error is None:
        book.pending = []
        state.alerts = book.to_json()
