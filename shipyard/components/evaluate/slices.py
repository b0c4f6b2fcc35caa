"""Metrics per slice of the data: by the values of a feature, or by buckets of a number.

A slice spec is JSON, so it can be a component parameter:

- `"island"`: one slice per value of `island` (missing values form their own slice);
- `{"feature": "age", "quantiles": 4}`: four buckets of about equal counts;
- `{"feature": "age", "boundaries": [18, 65]}`: `age < 18`, `18 <= age < 65`, `age >= 65`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.components.evaluate.metrics import Task, compute_metrics, to_numpy
from shipyard.dsl.parameters import invalid_parameter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

MISSING = "(missing)"
_WHO = "slice_metrics"
_SPEC = (
    "a feature name, {'feature': NAME, 'quantiles': N} or {'feature': NAME, 'boundaries': [...]}"
)


@dataclass(frozen=True)
class SliceSpec:
    """How to slice: by each value of `feature`, or into numeric buckets.

    Attributes:
        feature: The column to slice by.
        quantiles: Cut into this many buckets of about equal counts.
        boundaries: Cut at these increasing values.
    """

    feature: str
    quantiles: int | None = None
    boundaries: tuple[float, ...] | None = None

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any]) -> SliceSpec:
        """Read a JSON slice spec (see the module docstring).

        Raises:
            InvalidParameterError: The spec is malformed.
        """
        if isinstance(spec, str):
            return cls(spec)
        if not isinstance(spec, Mapping) or not isinstance(spec.get("feature"), str):
            raise invalid_parameter(_WHO, "slices", f"a list of {_SPEC}", spec)
        unknown = set(spec) - {"feature", "quantiles", "boundaries"}
        quantiles, boundaries = spec.get("quantiles"), spec.get("boundaries")
        if unknown or (quantiles is not None and boundaries is not None):
            raise invalid_parameter(_WHO, "slices", f"a list of {_SPEC}", dict(spec))
        if quantiles is not None and (
            not isinstance(quantiles, int) or isinstance(quantiles, bool) or quantiles < 2
        ):
            raise invalid_parameter(_WHO, "slices' quantiles", "an int >= 2", quantiles)
        if boundaries is not None:
            if (
                not isinstance(boundaries, list | tuple)
                or not boundaries
                or not all(isinstance(b, int | float) for b in boundaries)
                or list(boundaries) != sorted(set(boundaries))
            ):
                raise invalid_parameter(
                    _WHO, "slices' boundaries", "a non-empty increasing list of numbers", boundaries
                )
            boundaries = tuple(float(b) for b in boundaries)
        return cls(spec["feature"], quantiles=quantiles, boundaries=boundaries)


def slice_metrics(
    features: Any,
    labels: Any,
    predictions: Any = None,
    *,
    probabilities: Any = None,
    task: Task,
    slices: Sequence[str | Mapping[str, Any]],
    class_labels: Sequence[str] | None = None,
    min_slice_size: int = 1,
    positive_class: int | str | None = None,
) -> list[dict[str, Any]]:
    """Compute the metrics of every slice of the rows.

    Args:
        features: The columns to slice by: a mapping of name to column, an Arrow table or a
            Polars data frame, one row per label.
        labels: As for `compute_metrics`.
        predictions: As for `compute_metrics`.
        probabilities: As for `compute_metrics`.
        task: As for `compute_metrics`.
        slices: Slice specs (see the module docstring).
        class_labels: As for `compute_metrics`.
        min_slice_size: Slices with fewer rows are listed with their count but no metrics.
        positive_class: As for `compute_metrics`.

    Returns:
        One dict per slice, spec by spec: `feature`, `value`, `name` (`"island=Biscoe"`,
        `"18 <= age < 65"`), `count`, `metrics` (None when skipped), `undefined` and
        `skipped` (why there are no metrics, or None).

    Raises:
        InvalidParameterError: A spec is malformed or names an unknown feature.
        DataError: As for `compute_metrics`.

    Example:
        >>> slice_metrics({"island": islands}, y, probabilities=p, task="binary",
        ...               slices=["island"], min_slice_size=30)
    """
    if (
        not isinstance(min_slice_size, int)
        or isinstance(min_slice_size, bool)
        or min_slice_size < 1
    ):
        raise invalid_parameter(_WHO, "min_slice_size", "an int >= 1", min_slice_size)
    specs = [SliceSpec.parse(spec) for spec in slices]
    overall = compute_metrics(
        labels,
        predictions,
        probabilities=probabilities,
        task=task,
        class_labels=class_labels,
        positive_class=positive_class,
    )
    if task != "regression":
        class_labels = overall["class_labels"]
        positive_class = overall.get("positive_class")
    y = to_numpy(labels)
    pred = None if predictions is None else to_numpy(predictions)
    proba = None if probabilities is None else to_numpy(probabilities)
    results: list[dict[str, Any]] = []
    for spec in specs:
        names, group = _groups(spec, _feature(features, spec.feature), len(y))
        for index, name in enumerate(names):
            rows = np.flatnonzero(group == index)
            if len(rows) == 0:
                continue
            entry: dict[str, Any] = {
                "feature": spec.feature,
                "value": name.removeprefix(f"{spec.feature}="),
                "name": name,
                "count": len(rows),
                "metrics": None,
                "undefined": {},
                "skipped": None,
            }
            if len(rows) < min_slice_size:
                entry["skipped"] = f"fewer than {min_slice_size:,} rows (min_slice_size)"
            else:
                metrics = compute_metrics(
                    y[rows],
                    None if pred is None else pred[rows],
                    probabilities=None if proba is None else proba[rows],
                    task=task,
                    class_labels=class_labels,
                    positive_class=positive_class,
                )
                entry["metrics"], entry["undefined"] = metrics["metrics"], metrics["undefined"]
            results.append(entry)
    return results


def _feature(features: Any, name: str) -> NDArray[Any]:
    if hasattr(features, "column_names"):  # Arrow table
        names = list(features.column_names)
        column = features.column(name) if name in names else None
    elif isinstance(features, Mapping):
        names = list(features)
        column = features.get(name)
    else:  # Polars or pandas data frame
        names = list(features.columns)
        column = features[name] if name in names else None
    if column is None:
        raise invalid_parameter(
            _WHO, "slices", f"features among {', '.join(map(repr, names)) or 'none'}", name
        )
    return to_numpy(column)


def _groups(spec: SliceSpec, values: NDArray[Any], rows: int) -> tuple[list[str], NDArray[Any]]:
    """Return the slice names and each row's slice index."""
    if len(values) != rows:
        raise invalid_parameter(
            _WHO, "features", f"columns of {rows:,} rows, one per label", f"{len(values):,} rows"
        )
    if spec.quantiles is None and spec.boundaries is None:
        missing = _missing(values)
        present = values[~missing]
        if values.dtype.kind == "f" and np.all(np.mod(present, 1) == 0):  # ints with nulls
            values = np.where(missing, 0, values).astype(np.int64)
        keys = np.where(missing, MISSING, values.astype(str))
        unique, inverse = np.unique(keys, return_inverse=True)
        return [f"{spec.feature}={key}" for key in unique.tolist()], inverse.reshape(-1)
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        raise invalid_parameter(
            _WHO, "slices", f"numeric buckets of a numeric feature ({spec.feature!r} is not)", None
        ) from None
    present = ~np.isnan(numbers)
    if spec.boundaries is not None:
        cuts = np.asarray(spec.boundaries, dtype=np.float64)
    elif present.any():
        quantiles = np.linspace(0, 1, (spec.quantiles or 2) + 1)[1:-1]
        cuts = np.unique(np.quantile(numbers[present], quantiles))
    else:
        cuts = np.zeros(0)
    group = np.searchsorted(cuts, np.where(present, numbers, 0.0), side="right")
    group = np.where(present, group, len(cuts) + 1)
    names = [_bucket_name(spec.feature, cuts, i) for i in range(len(cuts) + 1)]
    return [*names, f"{spec.feature} is missing"], group


def _bucket_name(feature: str, cuts: NDArray[np.float64], index: int) -> str:
    if len(cuts) == 0:
        return f"{feature}: all"
    if index == 0:
        return f"{feature} < {cuts[0]:.6g}"
    if index == len(cuts):
        return f"{feature} >= {cuts[-1]:.6g}"
    return f"{cuts[index - 1]:.6g} <= {feature} < {cuts[index]:.6g}"


def _missing(values: NDArray[Any]) -> NDArray[np.bool_]:
    if values.dtype.kind == "f":
        return np.asarray(np.isnan(values), dtype=np.bool_)
    if values.dtype == object:
        flags = [v is None or (isinstance(v, float) and np.isnan(v)) for v in values]
        return np.asarray(flags, dtype=np.bool_)
    return np.zeros(len(values), dtype=bool)
