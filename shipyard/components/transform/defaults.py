"""The default preprocessing derived from a schema, used when the user writes none.

- numbers and booleans: `scale_to_z_score(impute(x, "mean"))`;
- strings with a domain, or with at most `MAX_VOCABULARY_SIZE` distinct values in the train
  split: `vocabulary(x)` (one OOV bucket);
- other strings: `hash_buckets(x, HASH_BUCKETS)`;
- the label: numbers pass through unchanged, strings map to ids with `vocabulary(x)` (its
  classes are recorded as the label vocabulary);
- other types (timestamps, dates, lists, binary, structs) are left out, and so are features
  without a single value in the train split: they carry no information, and the exported
  model does not ask for them;
- a feature the schema types as a number but the data holds as text (words among the
  numbers) is an error, never silently categories.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.components.transform.expressions import (
    Columns,
    Expr,
    hash_buckets,
    impute,
    scale_to_z_score,
    vocabulary,
)
from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from shipyard.artifacts import DataSchema

MAX_VOCABULARY_SIZE = 1000
HASH_BUCKETS = 100
NUMBER_TYPES = ("int", "float", "bool")


def default_preprocessing(
    schema: DataSchema,
    columns: Columns,
    *,
    label: str | None = None,
    distinct_values: Mapping[str, int] | None = None,
    empty: Collection[str] = (),
) -> dict[str, Expr]:
    """Return the default outputs for the schema's features found in `columns`.

    Args:
        schema: The data schema.
        columns: The raw columns of the train split.
        label: The label feature.
        distinct_values: Distinct values of each string column in the train split; a
            column missing from it counts as having few.
        empty: Columns without a value in the train split: left out (the label excepted).

    Raises:
        DataError: The schema types a feature as int or float, but its column is text.
    """
    counts = distinct_values or {}
    outputs: dict[str, Expr] = {}
    for name, feature in schema.features.items():
        column = columns.get(name)
        if column is None or (name in empty and name != label):
            continue
        if feature.type in ("int", "float") and column.kind == "string":
            raise DataError(
                f"the schema types {name!r} as {feature.type} but the train split holds it as "
                f"text: words among its numbers, which validation reports as wrong_type. Fix "
                f"the values, or read them as missing (ingest's null_values=[...]); the "
                f"default preprocessing will not turn a number column into categories.",
                column=name,
            )
        if column.kind == "float":
            if feature.type not in NUMBER_TYPES:
                continue
            outputs[name] = column if name == label else scale_to_z_score(impute(column, "mean"))
        elif name == label:
            outputs[name] = vocabulary(column)
        elif feature.domain is not None or counts.get(name, 0) <= MAX_VOCABULARY_SIZE:
            outputs[name] = vocabulary(column)
        else:
            outputs[name] = hash_buckets(column, HASH_BUCKETS)
    return outputs
