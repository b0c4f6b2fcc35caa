"""Labels that arrive after the prediction: the one owner of the feedback files.

Labels are keyed by the request id the server answered in `X-Request-Id` and wrote to its
request log, and by the row's index in its request (`row`, 0 unless the request had several
rows). `shipyard feedback FILE` and `POST /v1/models/NAME/feedback` store them next to the
request log, one Parquet file per call:

    DIR/MODEL/feedback/20260105T130102123456Z-4242-000001.parquet   (UTC time, pid, sequence)

written under a hidden temporary name, then renamed, as the request log is, so readers
never see a partial file. Columns: `request_id` (string), `row` (int64), `label` (string:
a class name, or a number written as text) and `received` (UTC, microseconds). Every label
is kept, even one whose request id is not (or not yet) in the log; reading them back
(`read_labels`), a repeated (request id, row) keeps its newest label.
"""

from __future__ import annotations

import itertools
import math
import posixpath
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    import pyarrow as pa
    from fsspec import AbstractFileSystem

FEEDBACK_DIRECTORY = "feedback"
"""The directory of a model's labels, beside its versions' request logs."""
MAX_REQUEST_ID_CHARS = 128
"""The longest request id, as the server takes in `X-Request-Id`."""
LABEL_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl", ".ndjson")
_KEYS = frozenset({"request_id", "label", "row"})
_SEQUENCE = itertools.count(1)


@dataclass(frozen=True)
class StoredLabels:
    """What one call stored: how many labels, and in which file."""

    count: int
    path: Path

    def to_json(self) -> dict[str, Any]:
        """Return it as the server's answer and the CLI's `--json` print it."""
        return {"stored": self.count, "file": str(self.path)}


def labels_from_json(payload: Any) -> pa.Table:
    """Check the body of a feedback POST, `{"feedback": [{"request_id", "label", "row"?}]}`.

    Raises:
        DataError: The first problem, naming the item and field (`feedback[3].label`).
    """
    if not isinstance(payload, dict) or set(payload) != {"feedback"}:
        raise DataError(
            'The request body must be {"feedback": [{"request_id": ..., "label": ...}, ...]}.'
        )
    items = payload["feedback"]
    if not isinstance(items, list) or not items:
        raise DataError("'feedback' must be a non-empty list of {request_id, label, row?}.")
    ids, rows, labels = [], [], []
    for index, item in enumerate(items):
        where = f"feedback[{index}]"
        if not isinstance(item, dict):
            raise DataError(f"{where} must be an object with request_id and label.")
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise DataError(f"{where} has the unknown field {unknown[0]!r}; it takes {_fields()}.")
        ids.append(_request_id(item.get("request_id"), f"{where}.request_id"))
        rows.append(_row(item.get("row", 0), f"{where}.row"))
        labels.append(label_text(item.get("label"), f"{where}.label"))
    return _table(ids, rows, labels)


def read_label_file(
    path: str,
    *,
    id_column: str = "request_id",
    label_column: str = "label",
    row_column: str = "row",
) -> pa.Table:
    """Read labels from a CSV, Parquet or JSON Lines file (`row_column` is optional).

    Raises:
        DataError: The file cannot be read, lacks a column, or has a bad value (the file,
            row and column are named).
    """
    if not path.endswith(LABEL_SUFFIXES):
        raise DataError(
            "A label file must be CSV (.csv, .csv.gz), Parquet (.parquet) or JSON Lines "
            "(.jsonl, .ndjson).",
            path=path,
        )
    table = _read_columns(path, (id_column, label_column))
    for column in (id_column, label_column):
        if column not in table:
            raise DataError(
                f"The label file has no column {column!r}; its columns are "
                f"{', '.join(table)}. Name the column with "
                f"--{'id' if column == id_column else 'label'}-column.",
                path=path,
            )
    ids, labels, given_rows = table[id_column], table[label_column], table.get(row_column)
    rows = []
    for index in range(len(ids)):
        try:
            ids[index] = _request_id(ids[index], id_column)
            labels[index] = label_text(labels[index], label_column)
            row = None if given_rows is None else given_rows[index]
            rows.append(0 if row is None else _row(row, row_column))
        except DataError as exc:
            raise DataError(str(exc), path=path, row=index + 1) from None
    if not ids:
        raise DataError("The label file holds no labels.", path=path)
    return _table(ids, rows, labels)


def label_text(value: Any, where: str) -> str:
    """Return a label as stored: a class name as is, a number as text (`1.0` as `1`).

    Raises:
        DataError: Missing, empty, NaN or infinite, or not a string, number or boolean.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    raise DataError(
        f"{where} must be the true label: a class name or a number. Got {value!r} instead."
    )


def write_labels(log_dir: Path, model: str, labels: pa.Table) -> StoredLabels:
    """Store labels in `log_dir/model/feedback/` as one new Parquet file, atomically."""
    import pyarrow as pa

    from shipyard.monitoring.log_files import write_log_file

    received = pa.array([time.time_ns() // 1000] * labels.num_rows, pa.timestamp("us", tz="UTC"))
    table = labels.append_column("received", received)
    path = write_log_file(log_dir / model / FEEDBACK_DIRECTORY, table, _SEQUENCE)
    return StoredLabels(table.num_rows, path)


def feedback_files(logs: str) -> list[str]:
    """Return the label files of the request logs at `logs`, oldest first.

    `logs` is the server's `--request-log-dir` (labels in `logs/*/feedback/`), one model's
    directory (`logs/feedback/`) or one version's, named by its number (`logs/../feedback/`),
    local or an fsspec URL. A glob or a single file has none.
    """
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(logs)
    root = root.rstrip("/") or root
    if any(char in root for char in "*?[") or not fs.isdir(root):
        return []
    candidates = [
        posixpath.join(root, FEEDBACK_DIRECTORY),
        *(posixpath.join(d, FEEDBACK_DIRECTORY) for d in _subdirectories(fs, root)),
    ]
    if posixpath.basename(root).isdigit():  # a version's directory: its model's labels
        candidates.append(posixpath.join(posixpath.dirname(root), FEEDBACK_DIRECTORY))
    found: set[str] = set()
    for directory in candidates:
        if fs.isdir(directory):
            found.update(
                path
                for path in fs.ls(directory, detail=False)
                if path.endswith(".parquet") and not posixpath.basename(path).startswith(".")
            )
    return sorted(found, key=posixpath.basename)


def read_labels(fs: AbstractFileSystem, paths: Sequence[str]) -> tuple[pa.Table, int]:
    """Read label files; return the newest label of each (request id, row), and how many
    labels were read in all."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tables = []
    for path in paths:
        with fs.open(path, "rb") as handle:
            tables.append(pq.read_table(handle, columns=["request_id", "row", "label"]))
    if not tables:
        return _table([], [], []), 0
    table = pa.concat_tables(tables)
    total = table.num_rows
    # Files are named by time: the last occurrence of a key is its newest label.
    order = pa.array(range(total), pa.int64())
    table = table.append_column("order", order)
    newest = table.group_by(["request_id", "row"]).aggregate([("order", "max")])
    keep = pc.is_in(order, value_set=newest.column("order_max"))
    return table.filter(keep).drop_columns(["order"]), total


def _subdirectories(fs: AbstractFileSystem, root: str) -> Iterable[str]:
    for info in fs.ls(root, detail=True):
        if info.get("type") == "directory" and not posixpath.basename(info["name"]).startswith("."):
            yield info["name"]


def _read_columns(path: str, text_columns: tuple[str, ...]) -> dict[str, list[Any]]:
    """Read a label file's columns as lists of values (ids and labels as text in CSV)."""
    import pyarrow as pa

    try:
        if path.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pydict()  # type: ignore[no-any-return]
        if path.endswith((".jsonl", ".ndjson")):
            return _read_json_lines(path)
        from pyarrow import csv

        types = {column: pa.string() for column in text_columns}
        with pa.input_stream(path, compression="detect") as stream:
            table = csv.read_csv(
                stream,
                convert_options=csv.ConvertOptions(column_types=types, strings_can_be_null=True),
            )
        return table.to_pydict()  # type: ignore[no-any-return]
    except FileNotFoundError:
        raise DataError("The label file does not exist.", path=path) from None
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"The label file cannot be read: {exc}", path=path) from exc


def _read_json_lines(path: str) -> dict[str, list[Any]]:
    """Read JSON Lines with the standard library: a label may be a name on one line and a
    number on the next, which Arrow's reader refuses."""
    import json

    columns: dict[str, list[Any]] = {}
    with open(path, encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    for index, line in enumerate(lines):
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise DataError(f"The line is not JSON: {exc}.", path=path, row=index + 1) from None
        if not isinstance(record, dict):
            raise DataError("Each line must be a JSON object.", path=path, row=index + 1)
        for key, value in record.items():
            columns.setdefault(key, [None] * index).append(value)
        for values in columns.values():
            if len(values) == index:
                values.append(None)
    return columns


def _request_id(value: Any, where: str) -> str:
    if isinstance(value, str) and 0 < len(value) <= MAX_REQUEST_ID_CHARS:
        return value
    raise DataError(
        f"{where} must be the request id the server answered in X-Request-Id (a non-empty "
        f"string of at most {MAX_REQUEST_ID_CHARS} characters). Got {value!r} instead."
    )


def _row(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    raise DataError(
        f"{where} must be the row's index in its request, an integer >= 0 (0 for a request "
        f"of one row). Got {value!r} instead."
    )


def _fields() -> str:
    return "request_id, label and row"


def _table(ids: list[str], rows: list[int], labels: list[str]) -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "request_id": pa.array(ids, pa.string()),
            "row": pa.array(rows, pa.int64()),
            "label": pa.array(labels, pa.string()),
        }
    )
