"""Apply a fitted transform to raw rows: the training path (the ONNX graph is the serving path).

Raw numbers are read as float32 with NaN for missing values, raw strings as Python strings
with "" for missing values: exactly what the exported ONNX graph receives, and every op
computes in the same precision as its ONNX counterpart, so both paths agree.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from shipyard.components.transform.fitted import FittedNode, FittedTransform


def column_kind(data_type: pa.DataType) -> str | None:
    """Return `float` or `string` for an Arrow type transform reads, else None."""
    import pyarrow as pa

    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type):
        return "float"
    if pa.types.is_boolean(data_type) or pa.types.is_decimal(data_type):
        return "float"
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "string"
    return None


def raw_values(table: pa.Table, name: str, kind: str, *, path: str | None = None) -> np.ndarray:
    """Read one raw column as the exported graph receives it (1-D).

    Numbers become float32 with NaN for nulls; strings an object array with "" for nulls.

    Raises:
        DataError: The column is missing or has another type than at fit time.
    """
    import numpy as np
    import pyarrow as pa

    if name not in table.column_names:
        raise DataError(
            f"the transform reads column {name!r}, which these rows lack; the columns are "
            f"{', '.join(table.column_names)}.",
            path=path,
            column=name,
        )
    column = table.column(name)
    if column_kind(column.type) != kind:
        raise DataError(
            f"the transform was fitted on a {kind} column, got {column.type}.",
            path=path,
            column=name,
        )
    if kind == "float":
        values = column.cast(pa.float64()).to_numpy()
        return np.asarray(values, dtype=np.float32)
    strings = column.cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False)
    return np.asarray(strings, dtype=object)


def stable_hash(value: str, buckets: int) -> int:
    """A stable hash of a string into `0 .. buckets - 1` (SHA-256, not Python's `hash`)."""
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % buckets


def evaluate_node(node: FittedNode, inputs: list[np.ndarray]) -> np.ndarray:
    """Compute one fitted op over its input arrays (1-D)."""
    import numpy as np

    f = node.fitted
    op = node.op
    if op == "z_score":
        return (inputs[0] - np.float32(f["mean"])) / np.float32(f["std"])
    if op == "min_max":
        return (inputs[0] - np.float32(f["min"])) / np.float32(f["range"])
    if op == "log1p":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(inputs[0] + np.float32(1.0))
    if op == "impute":
        x = inputs[0]
        if node.kind == "float":
            return np.where(np.isnan(x), np.float32(f["value"]), x).astype(np.float32)
        return np.where(x == "", f["value"], x).astype(object)
    if op == "bucketize":
        boundaries = np.asarray(f["boundaries"], dtype=np.float32)
        above = inputs[0][:, None] >= boundaries[None, :]
        return np.asarray(above.sum(axis=1), dtype=np.int64)
    if op in ("vocabulary", "hash_buckets"):
        return _lookup(inputs[0], f["keys"], f["ids"], int(f["default"]))
    if op == "cross":
        size_b, buckets = np.int64(f["size_b"]), np.int64(node.options["num_buckets"])
        return np.asarray(np.mod(inputs[0] * size_b + inputs[1], buckets), dtype=np.int64)
    raise DataError(f"unknown transform op {op!r}; was the spec written by a newer Shipyard?")


def _lookup(values: np.ndarray, keys: list[str], ids: list[int], default: int) -> np.ndarray:
    import numpy as np
    import polars as pl

    series = pl.Series(values.tolist(), dtype=pl.String)
    mapped = series.replace_strict(keys, ids, default=default, return_dtype=pl.Int64)
    return np.asarray(mapped.to_numpy(), dtype=np.int64)


def evaluate(
    fitted: FittedTransform, table: pa.Table, *, outputs: list[str] | None = None
) -> dict[str, np.ndarray]:
    """Compute the named outputs (default: all) over raw rows, as 1-D arrays."""
    wanted = list(fitted.outputs) if outputs is None else outputs
    needed: set[int] = set()
    stack = [fitted.outputs[name] for name in wanted]
    while stack:
        index = stack.pop()
        if index not in needed:
            needed.add(index)
            stack.extend(fitted.nodes[index].inputs)
    values: dict[int, Any] = {}
    for index in sorted(needed):
        node = fitted.nodes[index]
        if node.op == "column":
            values[index] = raw_values(table, str(node.options["name"]), node.kind)
        else:
            values[index] = evaluate_node(node, [values[i] for i in node.inputs])
    return {name: values[fitted.outputs[name]] for name in wanted}


def apply(
    fitted: FittedTransform, table: pa.Table, *, outputs: list[str] | None = None
) -> pa.Table:
    """Transform raw rows into model inputs: one float32 or int64 column per output.

    Args:
        fitted: The fitted transform.
        table: Raw rows (one split, or served rows).
        outputs: The outputs to compute; all by default (serving rows lack the label: pass
            `fitted.serving_outputs()`).

    Raises:
        DataError: A column the transform reads is missing or has another type.
    """
    import numpy as np
    import pyarrow as pa

    arrays = evaluate(fitted, table, outputs=outputs)
    columns = {}
    for name, values in arrays.items():
        dtype = np.int64 if fitted.nodes[fitted.outputs[name]].kind == "id" else np.float32
        columns[name] = pa.array(np.asarray(values, dtype=dtype))
    return pa.table(columns) if columns else pa.table({})
