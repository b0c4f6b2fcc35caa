"""Which columns a model reads: the label, `features=` and `exclude=`, checked by name.

A name that is not a column of the data fails before any work, with the close matches
(`"tipz"`: did you mean `"tip"`?). `transform` and `shipyard train` share these checks, so
both say the same thing about the same mistake.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

MOST_COLUMNS_SHOWN = 30


@dataclass(frozen=True)
class UnknownColumn:
    """A name given for a column that the data lacks.

    Attributes:
        option: The parameter or flag that named it (`label`, `--features`).
        name: The name as given.
        close: The closest column names, best first (may be empty).
    """

    option: str
    name: str
    close: tuple[str, ...]

    def describe(self) -> str:
        """`"--label 'tipz' (did you mean 'tip'?)"`."""
        hint = f" (did you mean {self.close[0]!r}?)" if self.close else " (no close match)"
        return f"{self.option} {self.name!r}{hint}"


def unknown_columns(
    named: Mapping[str, Iterable[str]], columns: Sequence[str]
) -> list[UnknownColumn]:
    """Return every name in `named` (option -> names) that is not one of `columns`.

    Example:
        >>> unknown_columns({"--label": ["tipz"]}, ["tip", "fare"])
        [UnknownColumn(option='--label', name='tipz', close=('tip',))]
    """
    known = list(columns)
    folded = {column.lower(): column for column in known}
    found = []
    for option, names in named.items():
        for name in names:
            if name in known:
                continue
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            if name.lower() in folded and folded[name.lower()] not in close:
                close.insert(0, folded[name.lower()])
            found.append(UnknownColumn(option, name, tuple(close)))
    return found


def unknown_columns_error(
    unknown: Sequence[UnknownColumn], columns: Sequence[str], *, who: str, where: str
) -> InvalidParameterError:
    """One error naming every unknown column, its close matches and the data's columns."""
    shown = ", ".join(columns[:MOST_COLUMNS_SHOWN])
    if len(columns) > MOST_COLUMNS_SHOWN:
        shown += f", … ({len(columns) - MOST_COLUMNS_SHOWN} more)"
    what = "is not a column" if len(unknown) == 1 else "are not columns"
    return InvalidParameterError(
        f"{who}: {'; '.join(u.describe() for u in unknown)} {what} of {where}. "
        f"The columns are: {shown}. Fix the name{'s' if len(unknown) > 1 else ''}; "
        f"names are case-sensitive."
    )


def select_columns(
    columns: Sequence[str],
    *,
    label: str | None,
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    who: str = "transform",
    where: str = "the data",
    flags: bool = False,
) -> list[str]:
    """Return the columns to keep, in data order: the features chosen, and the label.

    Args:
        columns: The data's columns.
        label: The label column; it is kept, and may not be a feature or excluded.
        features: The only columns to read besides the label (None: every column).
        exclude: Columns to leave out (leaky outcome columns, identifiers).
        who: The component or command, for messages.
        where: The data, for messages.
        flags: Name the options as command-line flags (`--features`), not parameters.

    Raises:
        InvalidParameterError: A name is not a column (close matches named), the label is
            among `features` or `exclude`, or no feature is left.

    Example:
        >>> select_columns(["tip", "fare", "tip_amount"], label="tip", exclude=["tip_amount"])
        ['tip', 'fare']
    """
    prefix = "--" if flags else ""
    named = {f"{prefix}features": list(features or ()), f"{prefix}exclude": list(exclude)}
    if label is not None:
        named[f"{prefix}label"] = [label]
    unknown = unknown_columns(named, columns)
    if unknown:
        raise unknown_columns_error(unknown, columns, who=who, where=where)
    for option, names in named.items():
        if option != f"{prefix}label" and label in names:
            raise InvalidParameterError(
                f"{who}: {option} names the label {label!r}; a model cannot read what it "
                f"predicts. Remove it from {option}."
            )
    chosen = set(features) if features is not None else set(columns)
    chosen -= set(exclude)
    if not chosen - {label}:
        raise InvalidParameterError(
            f"{who}: no feature is left of {where} once "
            f"{'features and exclude are' if features is not None else 'exclude is'} applied "
            f"(features {list(features) if features is not None else 'all'}, exclude "
            f"{list(exclude)}); keep at least one column besides the label."
        )
    return [column for column in columns if column in chosen or column == label]
