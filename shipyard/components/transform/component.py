"""The `transform` component (TFX Transform): fit preprocessing on train, apply it to all."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import Examples, Schema, TransformGraph
from shipyard.artifacts.schema import SERVING
from shipyard.components.feature_columns import select_columns
from shipyard.dsl import Out, component
from shipyard.dsl.loading import load_function
from shipyard.errors import DataError, NotFoundError

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.artifacts import DataSchema
    from shipyard.components.transform.fit import Preprocessing


logger = logging.getLogger("shipyard.components.transform")


@component
def transform(
    examples: Examples,
    schema: Schema,
    transform_graph: Out[TransformGraph],
    transformed: Out[Examples],
    *,
    preprocessing_file: Path | None = None,
    preprocessing_function: str = "preprocessing",
    label: str | None = None,
    split: str = "train",
    features: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = (),
) -> None:
    """Fit preprocessing over the train split, apply it to every split, export it as ONNX.

    Args:
        examples: Raw examples.
        schema: Their schema; it gives the defaults and the label (the one feature absent
            from SERVING) when none is named.
        transform_graph: Receives the fitted graph: `transform.json` and `transform.onnx`
            (raw served rows in, model inputs out).
        transformed: Receives every split transformed: one float32 or int64 column per output.
        preprocessing_file: A Python file defining the preprocessing function (relative to
            the pipeline file). None: defaults from the schema.
        preprocessing_function: The function's name in that file. It receives the raw
            columns (`columns["x"]`) and returns `{output_name: expression}`; it runs once,
            at fit time, to build the graph.
        label: The label column (passed through, or mapped to class ids if a string).
        split: The split the analyzers are fitted on.
        features: The only columns the model reads besides the label (None: all of them).
            The preprocessing function receives just these columns.
        exclude: Columns the model never reads, such as outcomes recorded after the fact
            (leaky columns) or identifiers. The exported model does not ask for them.

    Raises:
        NotFoundError: `examples` has no such split, or the file does not exist.
        DefinitionError: The function is missing, names a column that does not exist,
            applies an op to the wrong kind of column, or returns no expressions.
        InvalidParameterError: `label`, a feature or an excluded column is not a column
            (close matches named), the label is among `features` or `exclude`, or no
            feature is left.

    Example:
        >>> prepared = transform(
        ...     examples=raw.outputs.examples,
        ...     schema=inferred.outputs.schema,
        ...     preprocessing_file="preprocessing.py",
        ... )
    """
    from shipyard.components.transform.apply import apply
    from shipyard.components.transform.fit import build_outputs, fit
    from shipyard.components.transform.onnx_export import export_onnx

    if split not in examples.splits:
        raise NotFoundError(
            f"transform fits on split {split!r}, but {examples.uri} has "
            f"{', '.join(examples.splits) or 'no splits'}; pass split= one of them."
        )
    train = examples.read(split)
    data_schema = schema.load()
    label = label if label is not None else _schema_label(data_schema)
    kept = select_columns(
        train.column_names,
        label=label,
        features=features,
        exclude=exclude,
        where=f"{examples.uri}/{split}",
    )
    if len(kept) < train.num_columns:
        left_out = [name for name in train.column_names if name not in kept]
        logger.info("transform leaves out %s (features/exclude)", ", ".join(left_out))
        train = train.select(kept)
    if preprocessing_file is None:
        outputs = _defaults(data_schema, train, label)
        if not outputs:
            raise DataError(
                "the schema has no number or string feature to transform; write a "
                "preprocessing function.",
                path=examples.uri,
            )
    else:
        function: Preprocessing = load_function(
            preprocessing_file,
            preprocessing_function,
            file_parameter="preprocessing_file",
            function_parameter="preprocessing_function",
        )
        where = f"{preprocessing_file}:{preprocessing_function}"
        outputs = build_outputs(function, train, where=where)
    check_finite(train, where=f"{examples.uri}/{split}")
    fitted = fit(outputs, train, label=label, path=f"{examples.uri}/{split}")
    model = export_onnx(fitted)
    transform_graph.save((fitted.to_spec(), model.SerializeToString()))
    for name in examples.splits:
        table = train if name == split else examples.read(name)
        present = [o for o in fitted.outputs if fitted.columns_of(o) <= set(table.column_names)]
        transformed.write_split(name, apply(fitted, table, outputs=present))


def _schema_label(schema: DataSchema) -> str | None:
    candidates = [name for name, f in schema.features.items() if SERVING in f.not_in]
    return candidates[0] if len(candidates) == 1 else None


def _defaults(schema: DataSchema, train: pa.Table, label: str | None) -> dict[str, Any]:
    import pyarrow.compute as pc

    from shipyard.components.transform.apply import column_kind
    from shipyard.components.transform.defaults import default_preprocessing
    from shipyard.components.transform.fit import raw_columns

    distinct = {
        field.name: int(pc.count_distinct(train.column(field.name)).as_py())
        for field in train.schema
        if column_kind(field.type) == "string"
    }
    empty = [name for name in train.column_names if _without_values(train.column(name))]
    if empty:
        logger.warning(
            "transform leaves out %s: no value in the train split", ", ".join(map(repr, empty))
        )
    return default_preprocessing(
        schema, raw_columns(train), label=label, distinct_values=distinct, empty=empty
    )


def _without_values(column: pa.ChunkedArray) -> bool:
    """Whether a column holds nothing but nulls (and, for strings, empty strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count == len(column):
        return True
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return not pc.any(pc.not_equal(column, "")).as_py()
    return False


def check_finite(table: pa.Table, *, where: str) -> None:
    """Refuse infinite numbers in raw columns: no analyzer or network can use them.

    Raises:
        DataError: A float column holds +inf or -inf; the first row is named.
    """
    import numpy as np
    import pyarrow as pa

    for field in table.schema:
        if not pa.types.is_floating(field.type):
            continue
        values = table.column(field.name).to_numpy(zero_copy_only=False)
        infinite = np.flatnonzero(np.isinf(values))
        if infinite.size:
            raise DataError(
                f"infinite values in {infinite.size} row(s) (the first is named); replace "
                f"them with numbers, or leave them empty (missing), before training.",
                path=where,
                row=int(infinite[0]),
                column=field.name,
            )
