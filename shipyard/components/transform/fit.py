"""Fit a preprocessing graph's analyzers over the train split.

The graph is flattened so every op follows its inputs; each op is fitted on its inputs'
values over the whole train split (a z-score after an imputation sees the imputed values),
then evaluated, so the next op sees what serving will compute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shipyard.components.transform.apply import (
    column_kind,
    evaluate_node,
    raw_values,
    stable_hash,
)
from shipyard.components.transform.expressions import Column, Columns, Expr, Kind
from shipyard.components.transform.fitted import FittedNode, FittedTransform
from shipyard.errors import DataError, DefinitionError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

Preprocessing = Callable[[Columns], Mapping[str, Expr]]


def raw_columns(table: pa.Table) -> Columns:
    """Return the columns of `table` as expressions, for a preprocessing function."""
    usable: dict[str, Expr] = {}
    skipped: dict[str, str] = {}
    for field in table.schema:
        kind = column_kind(field.type)
        if kind is None:
            skipped[field.name] = str(field.type)
        else:
            usable[field.name] = Column(field.name, "float" if kind == "float" else "string")
    return Columns(usable, skipped=skipped)


def build_outputs(preprocessing: Preprocessing, table: pa.Table, *, where: str) -> dict[str, Expr]:
    """Call a preprocessing function on `table`'s columns and check what it returns.

    Raises:
        DefinitionError: It returned no mapping, an empty one, or a non-expression value.
    """
    result = preprocessing(raw_columns(table))
    if not isinstance(result, Mapping) or not result:
        raise DefinitionError(
            f"{where} must return a non-empty dict {{output_name: expression}}, got "
            f"{type(result).__name__} {result!r}. Return e.g. "
            f"{{'x': scale_to_z_score(columns['x'])}}."
        )
    outputs: dict[str, Expr] = {}
    for name, expr in result.items():
        if not isinstance(name, str) or not isinstance(expr, Expr):
            raise DefinitionError(
                f"{where} returned {name!r}: {type(expr).__name__} {expr!r}; every key must "
                f"be a string and every value an expression built from the columns."
            )
        if expr.kind == "string":
            raise DefinitionError(
                f"{where}: output {name!r} is a string ({expr.describe()}); a model input is a "
                f"number or an id: map it with vocabulary() or hash_buckets()."
            )
        outputs[name] = expr
    return outputs


def fit(
    outputs: Mapping[str, Expr],
    table: pa.Table,
    *,
    label: str | None = None,
    path: str | None = None,
) -> FittedTransform:
    """Fit every analyzer of `outputs` over `table` (the train split).

    Args:
        outputs: Output name -> expression, as a preprocessing function returns them.
        table: The train split.
        label: The label column; recorded, with its vocabulary if it is mapped to ids.
        path: Where `table` came from, for error messages.

    Raises:
        DataError: The table has no rows, or a column is missing or of another type.
    """
    if table.num_rows == 0:
        raise DataError("the train split has no rows to fit the transform on.", path=path)
    order: list[Expr] = []
    index_of: dict[int, int] = {}

    def visit(expr: Expr) -> int:
        if id(expr) not in index_of:
            for item in expr.inputs:
                visit(item)
            index_of[id(expr)] = len(order)
            order.append(expr)
        return index_of[id(expr)]

    output_index = {name: visit(expr) for name, expr in outputs.items()}
    nodes: list[FittedNode] = []
    values: list[Any] = []
    columns: dict[str, Kind] = {}
    for expr in order:
        inputs = tuple(index_of[id(item)] for item in expr.inputs)
        if expr.op == "column":
            name = str(expr.options["name"])
            columns[name] = expr.kind
            node = FittedNode("column", expr.kind, (), dict(expr.options))
            values.append(raw_values(table, name, expr.kind, path=path))
        else:
            fitted = fit_node(expr, [values[i] for i in inputs], [nodes[i] for i in inputs])
            node = FittedNode(expr.op, expr.kind, inputs, dict(expr.options), fitted)
            values.append(evaluate_node(node, [values[i] for i in inputs]))
        nodes.append(node)
    label_vocabulary = None
    if label is not None and label in output_index:
        head = nodes[output_index[label]]
        if head.op == "vocabulary":
            label_vocabulary = list(head.fitted["vocabulary"])
    return FittedTransform(nodes, output_index, columns, label, label_vocabulary)


def fit_node(expr: Expr, inputs: list[np.ndarray], nodes: list[FittedNode]) -> dict[str, Any]:
    """Compute one op's analyzers over its inputs' train values."""
    import numpy as np

    op, options = expr.op, expr.options
    if op == "z_score":
        x = _finite(inputs[0])
        mean = float(x.mean()) if x.size else 0.0
        std = float(x.std()) if x.size else 0.0
        return {"mean": mean, "std": std if std > 0 else 1.0}
    if op == "min_max":
        x = _finite(inputs[0])
        low = float(x.min()) if x.size else 0.0
        high = float(x.max()) if x.size else 0.0
        return {"min": low, "max": high, "range": high - low if high > low else 1.0}
    if op == "log1p":
        return {}
    if op == "impute":
        return {"value": _impute_value(expr, inputs[0])}
    if op == "bucketize":
        x = _finite(inputs[0])
        buckets = int(options["num_buckets"])
        if not x.size or buckets == 1:
            return {"boundaries": [], "size": 1}
        quantiles = np.quantile(x, [i / buckets for i in range(1, buckets)])
        boundaries = sorted({float(np.float32(q)) for q in quantiles})
        return {"boundaries": boundaries, "size": len(boundaries) + 1}
    if op == "vocabulary":
        return _fit_vocabulary(inputs[0], options.get("top_k"), int(options["num_oov_buckets"]))
    if op == "hash_buckets":
        buckets = int(options["num_buckets"])
        keys = sorted(_counts(inputs[0]))
        return {
            "keys": keys,
            "ids": [stable_hash(key, buckets) for key in keys],
            "default": buckets,
            "size": buckets + 1,
        }
    if op == "cross":
        return {"size_b": int(nodes[1].fitted["size"]), "size": int(options["num_buckets"])}
    raise DefinitionError(f"unknown transform op {op!r}.")


def _finite(values: np.ndarray) -> np.ndarray:
    import numpy as np

    x = np.asarray(values, dtype=np.float64)
    return x[np.isfinite(x)]


def _counts(values: np.ndarray) -> dict[str, int]:
    import polars as pl

    frame = pl.Series("value", values.tolist(), dtype=pl.String).value_counts(name="count")
    return dict(zip(frame["value"].to_list(), frame["count"].to_list(), strict=True))


def _ranked(counts: dict[str, int]) -> list[str]:
    return [value for value, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _impute_value(expr: Expr, values: np.ndarray) -> float | str:
    import numpy as np

    strategy = expr.options["strategy"]
    if strategy == "constant":
        value: float | str = expr.options["value"]
        return value
    if expr.kind == "string":
        present = {k: n for k, n in _counts(values).items() if k != ""}
        return _ranked(present)[0] if present else ""
    x = _finite(values)
    if not x.size:
        return 0.0
    return float(x.mean() if strategy == "mean" else np.median(x))


def _fit_vocabulary(values: np.ndarray, top_k: int | None, oov_buckets: int) -> dict[str, Any]:
    ranked = _ranked(_counts(values))
    vocabulary = ranked if top_k is None else ranked[:top_k]
    size = len(vocabulary)
    keys = list(vocabulary)
    ids = list(range(size))
    if oov_buckets > 1:
        for value in ranked[size:]:
            keys.append(value)
            ids.append(size + stable_hash(value, oov_buckets))
    return {
        "vocabulary": vocabulary,
        "keys": keys,
        "ids": ids,
        "default": size,
        "size": size + oov_buckets,
    }
