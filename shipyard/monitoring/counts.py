"""Counting a batch of logged rows into event-time windows, column by column.

A window's figures are counts that add up (`WindowCounts.merge`): each column's values per
reference bin, missing, invalid (NaN, infinities, words in a numeric column), out of range
and unseen values. So a window is filled from any number of files and batches, its counts
kept in the monitor's state between runs, and nothing is held of the rows themselves.
"""

from __future__ import annotations

import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.arrays import from_numpy, int_scalar, strings, to_numpy, valid_mask
from shipyard.monitoring.measures import merge_counts
from shipyard.monitoring.sources import UnreadableFile

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import pyarrow as pa

    from shipyard.monitoring.measures import Counts, Measure
    from shipyard.monitoring.reference import ColumnReference, Reference

MAX_UNSEEN = 20
"""How many distinct unseen values a window names (all are counted)."""
PARALLEL_ROWS = 50_000
"""From how many rows a window's columns are counted on several threads (NumPy's sort and
Arrow's kernels release the GIL: on 2 cores a 500,000-row file counts in 0.6 of the time)."""


@dataclass
class ColumnCounts:
    """One column's counts in one window.

    `unseen` counts the values the reference never held and those outside the schema's
    domain, by value (the `MAX_UNSEEN` most frequent); `out_of_range` the values outside
    the schema's domain, or outside the range (the schema's, else the reference's).
    """

    bins: list[int]
    missing: int = 0
    invalid: int = 0
    out_of_range: int = 0
    unseen: dict[str, int] = field(default_factory=dict)

    @property
    def values(self) -> int:
        """How many values fell in the bins (neither missing nor invalid)."""
        return sum(self.bins)

    def merge(self, other: ColumnCounts) -> None:
        """Add another window's (or batch's) counts of the same column."""
        self.bins = [a + b for a, b in zip(self.bins, other.bins, strict=True)]
        self.missing += other.missing
        self.invalid += other.invalid
        self.out_of_range += other.out_of_range
        for value, count in other.unseen.items():
            self.unseen[value] = self.unseen.get(value, 0) + count
        if len(self.unseen) > MAX_UNSEEN:
            kept = sorted(self.unseen.items(), key=lambda item: (-item[1], item[0]))
            self.unseen = dict(kept[:MAX_UNSEEN])

    def to_json(self) -> dict[str, Any]:
        """Return the counts as plain JSON."""
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnCounts:
        """Read what `to_json` wrote."""
        return cls(
            [int(x) for x in data["bins"]],
            int(data["missing"]),
            int(data["invalid"]),
            int(data["out_of_range"]),
            {str(k): int(v) for k, v in data["unseen"].items()},
        )


@dataclass
class WindowCounts:
    """Everything counted in one window (or pane) `[start_us, start_us + length)`.

    `measures` holds each `Measure`'s counts by its name.
    """

    start_us: int
    rows: int = 0
    requests: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    columns: dict[str, ColumnCounts] = field(default_factory=dict)
    measures: dict[str, Counts] = field(default_factory=dict)

    def merge(self, other: WindowCounts) -> None:
        """Add the counts of another part of the same window (or of one of its panes)."""
        self.rows += other.rows
        self.requests += other.requests
        for version, rows in other.versions.items():
            self.versions[version] = self.versions.get(version, 0) + rows
        for name, counts in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(counts)
            else:
                self.columns[name] = ColumnCounts.from_json(counts.to_json())
        for name, found in other.measures.items():
            self.measures[name] = merge_counts(self.measures.get(name, {}), found)

    @classmethod
    def merged(cls, start_us: int, parts: Sequence[WindowCounts]) -> WindowCounts:
        """Return the counts of a window made of `parts` (its panes), which stay as they are."""
        window = cls(start_us)
        for part in parts:
            window.merge(part)
        return window

    def to_json(self) -> dict[str, Any]:
        """Return the window's counts as plain JSON."""
        return {
            "start_us": self.start_us,
            "rows": self.rows,
            "requests": self.requests,
            "versions": dict(self.versions),
            "columns": {name: counts.to_json() for name, counts in self.columns.items()},
            "measures": self.measures,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowCounts:
        """Read what `to_json` wrote."""
        return cls(
            int(data["start_us"]),
            int(data["rows"]),
            int(data["requests"]),
            {str(k): int(v) for k, v in data["versions"].items()},
            {name: ColumnCounts.from_json(c) for name, c in data["columns"].items()},
            {name: dict(found) for name, found in data.get("measures", {}).items()},
        )


def event_times_us(batch: pa.RecordBatch, column: str, path: str) -> np.ndarray:
    """Return a batch's event times in microseconds since the epoch (-1 where missing).

    Raises:
        UnreadableFile: The column is absent or not a timestamp.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if column not in batch.schema.names:
        raise UnreadableFile(path, f"no timestamp column {column!r} (see --timestamp)")
    times = batch.column(column)
    if pa.types.is_string(times.type) or pa.types.is_large_string(times.type):
        try:
            times = pc.cast(times, pa.timestamp("us", tz="UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise UnreadableFile(path, f"column {column!r} holds no timestamps ({exc})") from exc
    if not pa.types.is_timestamp(times.type):
        raise UnreadableFile(path, f"column {column!r} is {times.type}, not a timestamp")
    micros = pc.cast(times, pa.timestamp("us", tz=times.type.tz), safe=False).cast(pa.int64())
    return to_numpy(micros, "int64", null=-1)


def count_rows(
    batch: pa.RecordBatch,
    reference: Reference,
    *,
    starts: np.ndarray,
    columns: list[str],
    measures: Sequence[Measure] = (),
) -> dict[int, WindowCounts]:
    """Count a batch's rows into the panes given by `starts` (each row's pane start).

    Args:
        batch: The rows.
        reference: The columns' references.
        starts: Each row's pane start in microseconds.
        columns: The monitored columns the batch's file has.
        measures: The per-window measures, each counting the rows too.
    """
    import numpy as np

    windows: dict[int, WindowCounts] = {}
    order = np.argsort(starts, kind="stable")
    ordered = starts[order]
    cuts = np.flatnonzero(np.diff(ordered)) + 1
    for part in np.split(np.arange(len(order)), cuts):
        if len(part) == 0:
            continue
        start = int(ordered[part[0]])
        rows = batch.take(from_numpy(order[part])) if len(cuts) else batch
        windows[start] = _count_window(rows, reference, start, columns, measures)
    return windows


def _count_window(
    rows: pa.RecordBatch,
    reference: Reference,
    start: int,
    columns: list[str],
    measures: Sequence[Measure],
) -> WindowCounts:
    import pyarrow.compute as pc

    window = WindowCounts(start, rows=rows.num_rows)
    names = rows.schema.names
    if "request_id" in names:
        window.requests = int(pc.count_distinct(rows.column("request_id")).as_py())
    if "model" in names and "version" in names:
        models = pc.unique(rows.column("model")).to_pylist()
        if len(models) == 1:  # a log file holds one version's requests
            for item in pc.value_counts(rows.column("version")).to_pylist():
                window.versions[f"{models[0]}/{item['values']}"] = int(item["counts"])
        else:
            for model, version in zip(
                rows.column("model").to_pylist(), rows.column("version").to_pylist(), strict=True
            ):
                label = f"{model}/{version}"
                window.versions[label] = window.versions.get(label, 0) + 1

    def count(name: str) -> ColumnCounts:
        return count_column(rows.column(name), reference.columns[name])

    if rows.num_rows >= PARALLEL_ROWS and len(columns) > 1:
        window.columns.update(zip(columns, _threads().map(count, columns), strict=True))
    else:
        window.columns.update((name, count(name)) for name in columns)
    for measure in measures:
        found = measure.count(rows)
        if found:
            window.measures[measure.name] = found
    return window


@functools.cache
def _threads() -> ThreadPoolExecutor:
    """The threads that count columns, one per core, started once per process."""
    return ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="shipyard-count")


def count_column(array: pa.Array, column: ColumnReference) -> ColumnCounts:
    """Count one column's values of one window against its reference."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = scalar_values(array)
    missing = array.null_count
    if column.categorical and pa.types.is_dictionary(array.type):
        return _count_dictionary(array, column)
    if column.categorical:
        text = pc.cast(array, pa.string()) if array.type != pa.string() else array
        index = pc.index_in(text, value_set=strings(column.values))
        known = to_numpy(index.drop_null(), "int32", null=0)
        bins = np.bincount(known, minlength=len(column.values) + 1)
        unseen_mask = pc.and_(pc.is_valid(text), pc.is_null(index))
        unseen_values = pc.filter(text, unseen_mask)
        bins[-1] = len(unseen_values)
        unseen = {
            str(item["values"]): int(item["counts"])
            for item in pc.value_counts(unseen_values).to_pylist()
        }
        counts = ColumnCounts([int(x) for x in bins], missing=missing, unseen=unseen)
        if column.domain is not None:
            outside = pc.is_null(pc.index_in(text, value_set=strings(column.domain)))
            outside_values = pc.filter(text, pc.and_(pc.is_valid(text), outside))
            counts.out_of_range = len(outside_values)
            for item in pc.value_counts(outside_values).to_pylist():
                counts.unseen[str(item["values"])] = int(item["counts"])
        if len(counts.unseen) > MAX_UNSEEN:
            counts.merge(ColumnCounts([0] * len(bins)))  # keeps the most frequent
        return counts
    values = _floats(array)
    finite = np.isfinite(values)
    kept_count = int(np.count_nonzero(finite))
    invalid = len(values) - missing - kept_count
    ordered = np.sort(values if kept_count == len(values) else values[finite])
    assert column.binning is not None
    bins = column.binning.count_sorted(ordered)
    outside = 0  # below low and above high, looked up in the sorted values
    if column.low is not None and not math.isnan(column.low):
        outside += int(np.searchsorted(ordered, column.low, side="left"))
    if column.high is not None and not math.isnan(column.high):
        outside += kept_count - int(np.searchsorted(ordered, column.high, side="right"))
    return ColumnCounts(
        [int(x) for x in bins],
        missing=missing,
        invalid=invalid,
        out_of_range=outside,
    )


def _count_dictionary(array: pa.DictionaryArray, column: ColumnReference) -> ColumnCounts:
    """Count a dictionary-encoded categorical column on its codes, as `count_column` would.

    Each distinct value is looked up once (in the dictionary, not per row); the rows are
    counted per code. Unseen and out-of-domain values are named in the order they first
    appear, as `pc.value_counts` of the decoded values names them.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    dictionary = array.dictionary
    if dictionary.null_count or not (
        pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)
    ):
        return count_column(array.dictionary_decode(), column)
    codes = to_numpy(array.indices.cast(pa.int32()), "int32", null=-1)
    valid = codes[codes >= 0] if array.null_count else codes
    per_code = np.bincount(valid, minlength=len(dictionary))
    known = to_numpy(pc.index_in(dictionary, value_set=strings(column.values)), "int32", null=-1)
    unseen_code = (known < 0) & (per_code > 0)
    bins = np.bincount(
        known[known >= 0], weights=per_code[known >= 0], minlength=len(column.values) + 1
    ).astype(np.int64)
    bins[-1] = int(per_code[unseen_code].sum())
    counts = ColumnCounts([int(x) for x in bins], missing=array.null_count)
    counts.unseen = _named_codes(codes, unseen_code, dictionary, per_code)
    if column.domain is not None:
        inside = to_numpy(
            pc.is_in(dictionary, value_set=strings(column.domain)).cast(pa.int8()), "int8", null=0
        )
        outside = (inside == 0) & (per_code > 0)
        counts.out_of_range = int(per_code[outside].sum())
        counts.unseen.update(_named_codes(codes, outside, dictionary, per_code))
    if len(counts.unseen) > MAX_UNSEEN:
        counts.merge(ColumnCounts([0] * len(bins)))  # keeps the most frequent
    return counts


def _named_codes(
    codes: np.ndarray, chosen: np.ndarray, dictionary: pa.Array, per_code: np.ndarray
) -> dict[str, int]:
    """The chosen codes' values and row counts, in the order of their first row."""
    import numpy as np

    if not chosen.any():
        return {}
    rows = np.flatnonzero(chosen[np.maximum(codes, 0)] & (codes >= 0))
    found, first = np.unique(codes[rows], return_index=True)
    ordered = found[np.argsort(first, kind="stable")]
    values = dictionary.take(ordered).to_pylist()
    return {str(value): int(per_code[code]) for value, code in zip(values, ordered, strict=True)}


def scalar_values(array: pa.Array) -> pa.Array:
    """Return one value per row: a list's only item, or its largest (`probabilities`)."""
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_fixed_size_list(array.type) or pa.types.is_list(array.type)):
        return array
    if pa.types.is_fixed_size_list(array.type) and array.type.list_size == 1:
        return array.flatten()

    if pa.types.is_floating(array.type.value_type):
        return _first(array) if _widths(array) == 1 else _row_max(array)
    return _first(array)


def _first(array: pa.Array) -> pa.Array:
    """Each row's first item (null for an empty or missing list)."""
    import pyarrow.compute as pc

    return pc.list_element(array, int_scalar(0))


def _widths(array: pa.Array) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_fixed_size_list(array.type):
        return int(array.type.list_size)
    return int(pc.max(pc.list_value_length(array)).as_py() or 0)


def _row_max(array: pa.Array) -> pa.Array:
    """Each row's largest value: a classifier's confidence in the class it predicted."""
    import numpy as np
    import pyarrow as pa

    width = _widths(array)
    if pa.types.is_fixed_size_list(array.type) and array.null_count == 0:
        flat = to_numpy(array.flatten().cast(pa.float64()), "float64", null=np.nan)
        flat = flat.reshape(-1, width)
        return from_numpy(flat.max(axis=1))
    maxima = [max(row) if row else None for row in array.to_pylist()]
    return pa.array(maxima, pa.float64())


def _floats(array: pa.Array) -> np.ndarray:
    """Return a column as floats: NaN where missing or a word; times in seconds."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(array.type):
        array = pc.cast(array, pa.int8())
    if pa.types.is_temporal(array.type):
        micros = pc.cast(pc.cast(array, pa.timestamp("us")), pa.int64())
        seconds = to_numpy(micros, "int64", null=0) / 1e6
        return np.where(valid_mask(micros), seconds, np.nan)
    try:
        numbers = pc.cast(array, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.asarray([_float(value) for value in array.to_pylist()], dtype=np.float64)
    return to_numpy(numbers, "float64", null=np.nan)


def _float(value: Any) -> float:
    """A value as a float; NaN if it is missing or a word (counted as invalid)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
