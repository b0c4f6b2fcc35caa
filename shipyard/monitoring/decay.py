"""Decay detection: live metrics from labels joined to logged predictions, against evaluation.

The labels (`feedback`) are joined to the request log on (request id, row in the request):
a request's rows are logged together in order, so the log's n-th row of an id is its row n.
Each labelled prediction falls in the window of its request's time (the log's timestamp, not
the label's), per served version. Each window's live metrics are those `evaluate` computes,
with the same code (`compute_metrics`): accuracy, AUC where the log has probabilities
(binary; the mean one-vs-rest AUC for several classes) and log loss for classification;
RMSE and MAE for regression. A window with at least `min_labels` labelled predictions is
compared with the version's evaluation-time metrics (`find_evaluation`, through lineage):

- a metric where higher is better (accuracy, AUC) decays when it is more than its tolerance
  below evaluation, by default 0.05 (absolute);
- a metric where lower is better (log loss, RMSE, MAE) decays when it is more than its
  tolerance above evaluation, relative: by default 25% for log loss, 20% for RMSE and MAE.

Each decay is a finding of kind `decay` on the column `MODEL/VERSION:METRIC`, and goes
through the monitor's alerts as any finding does. Labels are read whole and the logs' ids
streamed against them, so memory holds the labels and the labelled predictions only. A
label whose request is not in the logs (not sampled, not yet written, a wrong id) is kept
and counted as unmatched; a class name the model does not know is counted, not scored.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.monitoring.feedback import read_labels
from shipyard.monitoring.findings import Finding
from shipyard.monitoring.sources import UnreadableFile, display_path, read_batches, read_columns

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    import numpy as np
    import pyarrow as pa
    from fsspec import AbstractFileSystem

    from shipyard.artifacts import EvaluationResult
    from shipyard.monitoring.sources import LogFile

DEFAULT_TOLERANCES = {"accuracy": 0.05, "auc": 0.05, "log_loss": 0.25, "rmse": 0.2, "mae": 0.2}
"""How far each live metric may fall behind evaluation: absolute for accuracy and AUC,
relative for log loss, RMSE and MAE."""
DEFAULT_MIN_LABELS = 500
"""The fewest labelled predictions a window needs to be compared: at accuracy 0.8, 500 rows
have a standard error of 0.018, so a 0.05 drop is 2.8 of them."""
CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "auc", "log_loss")
REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae")
_OUTPUTS = ("class_ids", "class_labels", "probabilities", "predictions")
GROUP_ROWS = 1 << 20
"""Log rows whose request ids are looked up in the labels at once (see `_labelled_tables`)."""


@dataclass(frozen=True)
class DecayWindow:
    """One version's live metrics in one window, beside its evaluation's."""

    start_us: int
    end_us: int
    version: str
    labelled: int
    metrics: dict[str, float | None]
    evaluation: dict[str, float | None]
    findings: list[Finding]

    def to_json(self) -> dict[str, Any]:
        """Return the window as plain JSON (the report's shape)."""
        from shipyard.monitoring.report import iso_time

        return {
            "start": iso_time(self.start_us),
            "end": iso_time(self.end_us),
            "version": self.version,
            "labelled": self.labelled,
            "metrics": self.metrics,
            "evaluation": self.evaluation,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass
class DecayReport:
    """What a run joined: labels read, matched and not, and each window's live metrics."""

    label_files: int = 0
    labels_read: int = 0
    labels: int = 0
    matched: int = 0
    unknown_labels: dict[str, int] = field(default_factory=dict)
    baselines: dict[str, str] = field(default_factory=dict)
    windows: list[DecayWindow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Windows whose logged outputs the metrics refused, and why."""

    @property
    def unmatched(self) -> int:
        """Labels whose (request id, row) is not in the logs read."""
        return self.labels - self.matched

    def to_json(self) -> dict[str, Any]:
        """Return the report as plain JSON."""
        return {
            "label_files": self.label_files,
            "labels": {
                "read": self.labels_read,
                "distinct": self.labels,
                "matched": self.matched,
                "unmatched": self.unmatched,
                "unknown": dict(self.unknown_labels),
            },
            "baselines": dict(self.baselines),
            "windows": [window.to_json() for window in self.windows],
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class DecayOptions:
    """How decay is measured (see the module docstring)."""

    min_labels: int = DEFAULT_MIN_LABELS
    tolerances: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: dict(DEFAULT_TOLERANCES)
    )
    find_evaluation: Callable[[str, int], tuple[EvaluationResult, str]] | None = None


def measure_decay(
    fs: AbstractFileSystem,
    log_files: Sequence[LogFile],
    label_paths: Sequence[str],
    options: DecayOptions,
    *,
    window_us: int,
    timestamp: str = "timestamp",
) -> DecayReport:
    """Join the labels to the logged predictions and measure each window's live metrics.

    Args:
        fs: The logs' filesystem.
        log_files: Every log file (read or not before: labels arrive for old requests).
        label_paths: The label files (`feedback.feedback_files`).
        options: The minimum labels, the tolerances and where the evaluation is found.
        window_us: The windows' length.
        timestamp: The logs' event-time column.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from shipyard.errors import ShipyardError
    from shipyard.monitoring.report import iso_time

    labels, read = read_labels(fs, label_paths)
    report = DecayReport(label_files=len(label_paths), labels_read=read, labels=labels.num_rows)
    if not labels.num_rows:
        return report
    ids = pc.unique(labels.column("request_id"))
    found = [
        table
        for table in _labelled_tables(fs, log_files, ids, timestamp, window_us)
        if table.num_rows
    ]
    if not found:
        return report
    logged_rows = pa.concat_tables(found, promote_options="permissive")
    keys = logged_rows.select(["request_id", "row"])
    keys = keys.append_column("index", pa.array(range(keys.num_rows), pa.int64()))
    # Arrow joins no list columns (probabilities): join the keys, then take the rows.
    pairs = keys.join(labels, keys=["request_id", "row"], join_type="inner")
    joined = logged_rows.take(pairs.column("index")).append_column("label", pairs.column("label"))
    report.matched = joined.group_by(["request_id", "row"]).aggregate([]).num_rows
    versions = pc.binary_join_element_wise(
        joined.column("model"), pc.cast(joined.column("version"), pa.string()), "/"
    )
    joined = joined.append_column("served", versions)
    for version in sorted(pc.unique(versions).to_pylist()):
        rows = joined.filter(pc.equal(joined.column("served"), version))
        baseline = _baseline(version, options, report)
        starts = rows.column("window_us").to_numpy()
        order = np.argsort(starts, kind="stable")  # each window's rows: one slice
        rows, starts = rows.take(pa.array(order)), starts[order]
        bounds = [*np.flatnonzero(np.r_[True, starts[1:] != starts[:-1]]).tolist(), len(starts)]
        for begin, end in itertools.pairwise(bounds):
            try:
                window = _measure(
                    rows.slice(begin, end - begin),
                    version=version,
                    start_us=int(starts[begin]),
                    baseline=baseline,
                    options=options,
                    window_us=window_us,
                    report=report,
                )
            except ShipyardError as exc:  # outputs the metrics refuse: say so, measure on
                report.problems.append(f"{version}, window {iso_time(int(starts[begin]))}: {exc}")
                continue
            report.windows.append(window)
    return report


def _labelled_tables(
    fs: AbstractFileSystem,
    files: Sequence[LogFile],
    ids: pa.Array,
    timestamp: str,
    window_us: int,
) -> Iterator[pa.Table]:
    """Each log file's rows whose request id has a label, with their row index in the
    request and their window's start (rows without a time are left out).

    Files are read in groups of about `GROUP_ROWS` rows, whose ids are looked up in the
    labels at once: Arrow builds the labels' hash table on every lookup.
    """
    pending: list[tuple[LogFile, list[pa.RecordBatch]]] = []
    rows = 0
    for file in files:
        batches = _request_batches(fs, file, timestamp)
        if batches:
            pending.append((file, batches))
            rows += sum(batch.num_rows for batch in batches)
        if rows >= GROUP_ROWS:
            yield from _select(pending, ids, timestamp, window_us)
            pending, rows = [], 0
    yield from _select(pending, ids, timestamp, window_us)


def _request_batches(
    fs: AbstractFileSystem, file: LogFile, timestamp: str
) -> list[pa.RecordBatch] | None:
    """A request log's columns that decay needs; None for an unreadable file (the monitor
    reports it) or one without request ids."""
    try:
        columns = set(read_columns(fs, file))
        if not {"request_id", "model", "version", timestamp} <= columns:
            return None
        wanted = [timestamp, "model", "version", "request_id"]
        wanted += [c for c in _OUTPUTS if c in columns]
        return list(read_batches(fs, file, wanted))
    except UnreadableFile:
        return None


def _select(
    pending: list[tuple[LogFile, list[pa.RecordBatch]]],
    ids: pa.Array,
    timestamp: str,
    window_us: int,
) -> Iterator[pa.Table]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from shipyard.monitoring.counts import event_times_us

    if not pending:
        return
    logged = [batch.column("request_id").cast(pa.string()) for _, bs in pending for batch in bs]
    mask = pc.is_in(pa.chunked_array(logged, pa.string()), value_set=ids).combine_chunks()
    offset = 0
    for file, batches in pending:
        kept, times = [], []
        for batch in batches:
            labelled = batch.filter(mask.slice(offset, batch.num_rows))
            offset += batch.num_rows
            if labelled.num_rows:
                try:
                    times.append(event_times_us(labelled, timestamp, display_path(file.path)))
                except UnreadableFile:
                    break  # not a timestamp column: the monitor reports the file
                kept.append(labelled)
        if not kept or len(times) != len(kept):
            continue
        table = pa.Table.from_batches(kept)
        table = table.append_column("row", pa.array(_rank_in_request(table), pa.int64()))
        micros = np.concatenate(times)
        table = table.append_column("window_us", pa.array(micros - micros % window_us, pa.int64()))
        yield table.filter(pa.array(micros >= 0))


def _rank_in_request(table: pa.Table) -> np.ndarray:
    """Each row's index among the rows of its request id, in log order."""
    import numpy as np
    import pyarrow.compute as pc

    codes = pc.dictionary_encode(table.column("request_id")).combine_chunks().indices
    codes = codes.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered)])
    ranks = np.empty(len(codes), dtype=np.int64)
    ranks[order] = np.arange(len(ordered)) - np.repeat(starts, sizes)
    return ranks


@dataclass(frozen=True)
class _Baseline:
    task: str | None
    class_labels: list[str] | None
    positive_class: str | None
    metrics: dict[str, float | None]


def _baseline(version: str, options: DecayOptions, report: DecayReport) -> _Baseline:
    """The version's evaluation, or an empty baseline (and why, in the report)."""
    from shipyard.errors import ShipyardError

    model, _, number = version.rpartition("/")
    if options.find_evaluation is None:
        report.baselines[version] = "no store: live metrics are not compared"
        return _Baseline(None, None, None, {})
    try:
        evaluation, source = options.find_evaluation(model, int(number))
    except ShipyardError as exc:
        report.baselines[version] = str(exc)
        return _Baseline(None, None, None, {})
    report.baselines[version] = source
    overall = evaluation.overall
    names = overall.get("class_labels")
    positive = overall.get("positive_class")
    return _Baseline(
        evaluation.task or None,
        None if names is None else [str(n) for n in names],
        None if positive is None else str(positive),
        evaluation.metrics,
    )


def _measure(
    window: pa.Table,
    *,
    version: str,
    start_us: int,
    baseline: _Baseline,
    options: DecayOptions,
    window_us: int,
    report: DecayReport,
) -> DecayWindow:
    """Live metrics of one version's labelled predictions in one window, and any decay."""
    names = window.schema.names
    regression = baseline.task == "regression" or (
        baseline.task is None and "predictions" in names and "class_ids" not in names
    )
    if regression:
        metrics, labelled = _regression(window, version, report)
        compared = REGRESSION_METRICS
    else:
        metrics, labelled = _classification(window, version, baseline, report)
        compared = CLASSIFICATION_METRICS
    live = {name: metrics.get(name) for name in compared}
    evaluation = {name: baseline.metrics.get(name) for name in compared}
    findings = []
    if labelled >= options.min_labels:
        for name in compared:
            found = _decay(name, live[name], evaluation[name], options.tolerances, version)
            if found is not None:
                findings.append(found)
    end_us = start_us + window_us
    return DecayWindow(start_us, end_us, version, labelled, live, evaluation, findings)


def _decay(
    metric: str,
    live: float | None,
    evaluated: float | None,
    tolerances: Mapping[str, float],
    version: str,
) -> Finding | None:
    from shipyard.artifacts.evaluation import metric_direction

    tolerance = tolerances.get(metric)
    if live is None or evaluated is None or tolerance is None:
        return None
    if metric_direction(metric) == "higher":
        limit = evaluated - tolerance
        if live >= limit:
            return None
        change = f"{evaluated - live:.3g} below"
        allowed = f"{tolerance:g}"
    else:
        limit = evaluated * (1 + tolerance)
        if live <= limit:
            return None
        change = f"{live / evaluated - 1:.0%} above" if evaluated else "above"
        allowed = f"{tolerance:.0%}"
    return Finding(
        f"{version}:{metric}",
        "decay",
        live,
        limit,
        f"{version} decayed: live {metric} {live:.4g} is {change} its evaluation's "
        f"{evaluated:.4g} (tolerance {allowed}).",
    )


def _classification(
    window: pa.Table, version: str, baseline: _Baseline, report: DecayReport
) -> tuple[dict[str, float | None], int]:
    """Accuracy, AUC and log loss of the labelled rows whose class the model knows."""
    import numpy as np

    from shipyard.components.evaluate.metrics import compute_metrics
    from shipyard.monitoring.counts import scalar_values

    proba = _probabilities(window)
    predicted = None
    if "class_ids" in window.schema.names:
        predicted = scalar_values(window.column("class_ids")).to_numpy(zero_copy_only=False)
    if proba is None and predicted is None:
        return {}, 0
    names = baseline.class_labels or _logged_classes(window, proba, predicted)
    index = {name: i for i, name in enumerate(names)}
    codes = np.array([index.get(label, -1) for label in window.column("label").to_pylist()])
    known = codes >= 0
    _count_unknown(report, version, int((~known).sum()))
    if not known.any():
        return {}, 0
    task = baseline.task or ("binary" if len(names) == 2 else "multiclass")
    result = compute_metrics(
        codes[known],
        None if predicted is None else predicted[known].astype(np.int64),
        probabilities=None if proba is None else proba[known],
        task=task,  # type: ignore[arg-type]
        class_labels=names,
        positive_class=baseline.positive_class,
    )
    return dict(result["metrics"]), int(known.sum())


def _regression(
    window: pa.Table, version: str, report: DecayReport
) -> tuple[dict[str, float | None], int]:
    """RMSE and MAE of the labelled rows whose label is a number."""
    import numpy as np

    from shipyard.components.evaluate.metrics import compute_metrics
    from shipyard.monitoring.counts import scalar_values

    if "predictions" not in window.schema.names:
        return {}, 0
    predicted = scalar_values(window.column("predictions")).to_numpy(zero_copy_only=False)
    values = np.array([_number(label) for label in window.column("label").to_pylist()])
    known = np.isfinite(values) & np.isfinite(predicted.astype(np.float64))
    _count_unknown(report, version, int((~known).sum()))
    if not known.any():
        return {}, 0
    result = compute_metrics(values[known], predicted[known], task="regression")
    return dict(result["metrics"]), int(known.sum())


def _probabilities(window: pa.Table) -> np.ndarray | None:
    import numpy as np

    if "probabilities" not in window.schema.names:
        return None
    column = window.column("probabilities").combine_chunks()
    flat = np.asarray(column.flatten().to_numpy(zero_copy_only=False), dtype=np.float64)
    matrix = flat.reshape(len(column), -1)
    return matrix[:, 0] if matrix.shape[1] == 1 else matrix


def _logged_classes(
    window: pa.Table, proba: np.ndarray | None, predicted: np.ndarray | None
) -> list[str]:
    """Without an evaluation: the class names the log pairs with class ids (else the ids)."""
    from shipyard.monitoring.counts import scalar_values

    count = 2 if proba is None or proba.ndim == 1 else proba.shape[1]
    if predicted is not None and len(predicted):
        count = max(count, int(predicted.max()) + 1)
    names = [str(i) for i in range(count)]
    if predicted is not None and "class_labels" in window.schema.names:
        logged = scalar_values(window.column("class_labels")).to_pylist()
        for class_id, name in zip(predicted.tolist(), logged, strict=True):
            if name is not None:
                names[int(class_id)] = str(name)
    return names


def _number(label: str) -> float:
    try:
        return float(label)
    except ValueError:
        return float("nan")


def _count_unknown(report: DecayReport, version: str, count: int) -> None:
    if count:
        report.unknown_labels[version] = report.unknown_labels.get(version, 0) + count
