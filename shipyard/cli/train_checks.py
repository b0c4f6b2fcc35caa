"""`shipyard train`'s checks of its options against the data, before any work is done.

The data's columns are read from the header (or the Parquet / Arrow schema) alone. A
`--label`, `--features`, `--exclude` or `--slice` that names no column fails at once, with
the close matches and, when every mistake has one, the corrected command to run. A
`--positive-class` is checked against the label's values, read only when it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import typer

TASKS = ("auto", "classification", "regression", "binary", "multiclass")
WHO = "shipyard train"


@dataclass(frozen=True)
class TrainColumns:
    """What `shipyard train` reads of the data, checked.

    Attributes:
        features: The only feature columns (None: all but the label and `exclude`).
        exclude: The columns left out.
    """

    features: tuple[str, ...] | None
    exclude: tuple[str, ...]


def split_names(values: Sequence[str] | None) -> tuple[str, ...]:
    """Flatten repeatable, comma-separated options: `--exclude a,b --exclude c`."""
    return tuple(name.strip() for value in values or () for name in value.split(",") if name)


def check_train_options(
    ctx: typer.Context,
    data: str,
    *,
    label: str,
    features: Sequence[str] | None,
    exclude: Sequence[str] | None,
    slices: Sequence[str],
    task: str,
    positive_class: str | None,
    data_format: str = "auto",
) -> TrainColumns:
    """Check the names and values the options give against the data.

    Raises:
        InvalidParameterError: `--task` is not a task; a name is not a column (close
            matches named, with the corrected command); the label is among the features
            or excluded; no feature is left; `--positive-class` is not one of the label's
            two values, or the label is not binary.
        DataError: The data cannot be read.
    """
    from shipyard.cli.command_line import repeat_command
    from shipyard.components.feature_columns import (
        select_columns,
        unknown_columns,
        unknown_columns_error,
    )
    from shipyard.components.ingest import load_dataset

    if task not in TASKS:
        raise InvalidParameterError(
            f"--task must be one of {', '.join(TASKS)}. Got {task!r} instead."
        )
    chosen = split_names(features) or None
    left_out = split_names(exclude)
    columns = load_dataset(data, format=data_format, max_rows=0).column_names
    named = {
        "--label": [label],
        "--features": list(chosen or ()),
        "--exclude": list(left_out),
        "--slice": list(slices),
    }
    unknown = unknown_columns(named, columns)
    if unknown:
        error = unknown_columns_error(unknown, columns, who=WHO, where=data)
        if all(u.close for u in unknown):
            fixes = {u.name: u.close[0] for u in unknown}
            corrected = {
                "label": fixes.get(label, label),
                "features": _fixed(features, fixes),
                "exclude": _fixed(exclude, fixes),
                "slices": [fixes.get(s, s) for s in slices] or None,
            }
            error.hint = f"Run instead: {repeat_command(ctx, replace=corrected)}"
        raise error
    select_columns(
        columns, label=label, features=chosen, exclude=left_out, who=WHO, where=data, flags=True
    )
    if positive_class is not None:
        _check_positive_class(ctx, data, label, task, positive_class, data_format)
    return TrainColumns(chosen, left_out)


def _fixed(values: Sequence[str] | None, fixes: dict[str, str]) -> list[str] | None:
    if not values:
        return None
    return [",".join(fixes.get(n.strip(), n.strip()) for n in v.split(",")) for v in values]


def _check_positive_class(
    ctx: typer.Context, data: str, label: str, task: str, requested: str, data_format: str
) -> None:
    import pyarrow.compute as pc

    from shipyard.cli.command_line import repeat_command
    from shipyard.components.ingest import load_dataset
    from shipyard.components.labels import class_name, closest_class, positive_class

    if task in ("regression", "multiclass"):
        raise InvalidParameterError(
            f"--positive-class applies to a binary label, but --task is {task}. Leave "
            f"--positive-class out, or use --task binary."
        )
    column = load_dataset(data, format=data_format).column(label)
    values = pc.unique(column.drop_null()).to_pylist()
    classes = sorted({class_name(v) for v in values if v != ""})
    if len(classes) != 2:
        raise InvalidParameterError(
            f"--positive-class applies to a binary label, but {label!r} in {data} holds "
            f"{len(classes)} distinct values ({', '.join(classes[:5])}"
            f"{', …' if len(classes) > 5 else ''}). Leave --positive-class out."
        )
    try:
        positive_class(classes, requested, who=WHO, parameter="--positive-class")
    except InvalidParameterError as error:
        close = closest_class(requested, classes)
        if close is not None:
            fixed = repeat_command(ctx, replace={"positive_class": close})
            error.hint = f"Run instead: {fixed}"
        raise
