"""The `transform` component (TFX Transform) and its preprocessing library.

A preprocessing function builds an expression graph over the raw columns; analyzers
(means, standard deviations, min/max, quantiles, vocabularies) are fitted over the train
split only and applied to every split; the fitted graph is exported as ONNX, taking raw
rows as served, so training and serving apply the same preprocessing.

Modules, by responsibility: `expressions` (the ops a preprocessing function uses),
`defaults` (preprocessing derived from a schema), `fit` (analyzers), `fitted` (the fitted
graph and its JSON form), `apply` (the training path), `onnx_export` (the serving graph),
`component` (the component). Importing this package imports no data library: numpy,
polars, pyarrow and onnx load inside the functions that use them.

Example:
    >>> from shipyard.components.transform import impute, scale_to_z_score, vocabulary
    >>> def preprocessing(columns):
    ...     return {
    ...         "bill": scale_to_z_score(impute(columns["bill_length_mm"], "median")),
    ...         "island": vocabulary(columns["island"]),
    ...     }
"""

from shipyard.components.transform.component import transform
from shipyard.components.transform.expressions import (
    Column,
    Columns,
    Expr,
    bucketize,
    cross,
    hash_buckets,
    impute,
    log1p,
    scale_min_max,
    scale_to_z_score,
    vocabulary,
)

__all__ = [
    "Column",
    "Columns",
    "Expr",
    "bucketize",
    "cross",
    "hash_buckets",
    "impute",
    "log1p",
    "scale_min_max",
    "scale_to_z_score",
    "transform",
    "vocabulary",
]
