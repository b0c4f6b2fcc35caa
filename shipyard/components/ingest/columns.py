"""Checks on the data's columns: names, parameters that name columns, types and casts.

Every failure names the file, the row or line, and the column, and says what to do. A
column whose type was inferred as numbers but that holds words is not a failure: it is read
as text (`read_again`), and validation against a schema reports the words (`wrong_type`).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from shipyard.components.ingest.options import COMPONENT, invalid, type_name
from shipyard.errors import DataError, MixedTypesError

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Sequence

    import pyarrow as pa

    from shipyard.components.ingest.options import ReadOptions

logger = logging.getLogger(__name__)

# A number as CSV writes it: what a "number column" holds, for the mixed-types check.
NUMBER_PATTERN = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
INTEGER_PATTERN = r"^\s*[-+]?\d+\s*$"
_NUMBER_STARTS = [*"0123456789+-.", " ", "\t", "\n", "\r", "\f", "\v"]


def check_unique(names: Sequence[str], *, path: str) -> None:
    """Raise when two columns share a name.

    Raises:
        DataError: A name repeats.
    """
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        positions = [i + 1 for i, name in enumerate(names) if name == repeated[0]]
        raise DataError(
            f"the header names column {repeated[0]!r} {len(positions)} times (columns "
            f"{', '.join(map(str, positions))}). Rename the duplicates in the file, or pass "
            f"column_names=[...] to name every column.",
            path=path,
            row=None,
            column=repeated[0],
        )


def check_named(parameter: str, names: Iterable[str], columns: Sequence[str]) -> None:
    """Raise when a parameter names columns the data does not have.

    Raises:
        InvalidParameterError: One of `names` is not a column.
    """
    for name in names:
        if name not in columns:
            close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.5)
            suggestion = f" Did you mean {close[0]!r}?" if close else ""
            raise invalid(
                COMPONENT,
                parameter,
                "the name of a column of the data",
                name,
                hint=f"The columns are: {', '.join(columns)}.{suggestion}",
            )


def first_failure(array: pa.Array, check: Callable[[pa.Array], Any]) -> int | None:
    """Return the index of the first element for which `check` raises, or None.

    Bisects, so it calls `check` O(log n) times on ever smaller slices.
    """
    if not _fails(check, array):
        return None
    low, high = 0, len(array)
    while high - low > 1:
        middle = (low + high) // 2
        if _fails(check, array.slice(low, middle - low)):
            high = middle
        else:
            low = middle
    return low


def _fails(check: Callable[[pa.Array], Any], part: pa.Array) -> bool:
    try:
        check(part)
    except Exception:  # any failure of the check counts
        return True
    return False


def cast_columns(
    table: pa.Table, types: dict[str, pa.DataType], *, origin: str, first_row: int
) -> pa.Table:
    """Cast columns of `table` to `types` (from `column_types`); name the first bad value.

    Raises:
        DataError: A value cannot be cast: its row, column and value are named.
    """
    import pyarrow.compute as pc

    for name, target in types.items():
        index = table.schema.get_field_index(name)
        if index < 0 or table.schema.field(index).type == target:
            continue
        column = table.column(index).combine_chunks()
        try:
            cast = pc.cast(column, target)
        except Exception as exc:
            bad = first_failure(column, _caster(target))
            row = first_row + (bad or 0)
            value = column[bad or 0].as_py()
            raise DataError(
                f"cannot convert {value!r} to {type_name(target)} ({exc}). Fix the value, or "
                f"choose another type in column_types={{{name!r}: ...}}.",
                path=origin,
                row=row,
                column=name,
            ) from None
        table = table.set_column(index, table.schema.field(index).with_type(target), cast)
    return table


def _caster(target: pa.DataType) -> Callable[[pa.Array], Any]:
    import pyarrow.compute as pc

    def cast(part: pa.Array) -> Any:
        return pc.cast(part, target)

    return cast


def starts_like_numbers(column: pa.Array) -> bool:
    """Whether more than half of the column's values start as a number does (a digit, a
    sign, a point or a space): a cheap test that rules out a column of words.

    With Polars, which the commands reading whole files use next anyway: importing
    `pyarrow.compute` for this one test cost a third of a second of every `shipyard stats`.
    """
    import polars as pl

    present = pl.Series(values=column).drop_nulls()
    starts = present.str.slice(0, 1).is_in(_NUMBER_STARTS).sum()
    return present.len() > 0 and starts * 2 > present.len()


def mixed_number_column(column: pa.Array | pa.ChunkedArray) -> int | None:
    """Return the index of the first non-number in a column holding mostly numbers.

    A column whose values are more than half numbers, with a few words among them, was
    meant to be numeric: Arrow made it a string column because of the words. The shares are
    counted over the distinct values weighted by their counts, so a column of a few values
    repeated over millions of rows costs one hash pass, not a pattern match per row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    counted = pc.value_counts(column)
    values, counts = counted.field("values"), counted.field("counts")
    present = pc.is_valid(values)
    total = pc.sum(pc.if_else(present, counts, 0)).as_py() or 0
    if total == 0:
        return None

    def share(matches: pa.Array) -> int:
        return pc.sum(pc.if_else(pc.and_kleene(present, matches), counts, 0)).as_py() or 0

    # A number starts with a digit, sign, point or space: counting those first is a few times
    # cheaper than the pattern, and rules out a column of words without matching it.
    starts = pc.is_in(pc.utf8_slice_codeunits(values, 0, 1), pa.array(_NUMBER_STARTS))
    if share(starts) * 2 <= total:
        return None
    numbers = share(pc.fill_null(pc.match_substring_regex(values, NUMBER_PATTERN), False))
    if numbers in (0, total) or numbers * 2 <= total:
        return None
    is_number = pc.fill_null(pc.match_substring_regex(column, NUMBER_PATTERN), True)
    index: int = pc.index(is_number, False).as_py()
    return None if index < 0 else index


def mixed_types_error(
    column: str, value: Any, *, path: str, line: int | None, row: int | None, expected: str
) -> MixedTypesError:
    """The error for a value of the wrong type in a column of another type."""
    where = f"line {line}" if line is not None else f"row {row}"
    return MixedTypesError(
        f"mixed types: the column holds {expected} but {where} has {value!r}. Fix the value, "
        f"declare it missing (null_values=[{value!r}]), or read the column as text with "
        f"column_types={{{column!r}: 'string'}}.",
        value=value,
        path=path,
        row=row if line is None else None,
        column=column,
    )


def describe_columns(schema: pa.Schema) -> list[dict[str, str]]:
    """The `columns` property: `[{"name": ..., "type": ...}]` in column order."""
    return [{"name": field.name, "type": type_name(field.type)} for field in schema]


def read_again(
    options: ReadOptions, error: MixedTypesError, *, declared: Collection[str]
) -> ReadOptions:
    """Return `options` that read the column of `error` as a wider type, to read it again.

    A value came after the rows the column's type was inferred from: a float among
    integers makes the column float64, a word makes it text, as they would have had they
    come first. Ingest does not refuse the data; validation reports the words.

    Args:
        options: The options the data was read with.
        error: The value that did not fit.
        declared: The columns whose type the user declared (`column_types`).

    Raises:
        MixedTypesError: `error` itself, when the user declared the column's type or it is
            text already.
    """
    import pyarrow as pa

    column = error.column
    current = options.column_types.get(column) if column is not None else None
    if column is None or column in declared or current == pa.string():
        raise error
    number = re.match(NUMBER_PATTERN, str(error.value)) is not None
    if number and current != pa.float64():
        return replace(options, column_types={**options.column_types, column: pa.float64()})
    log_text_column(error.message)
    return replace(options, column_types={**options.column_types, column: pa.string()})


def warn_if_mixed(
    column: pa.Array, name: str, *, path: str, line_of: Callable[[int], int | None]
) -> None:
    """Warn when a text column holds mostly numbers: it stays text (see `read_again`).

    Args:
        column: The column's values.
        name: The column's name.
        path: The file it was read from.
        line_of: The file's line number of a row index, if known.
    """
    bad = mixed_number_column(column)
    if bad is not None:
        problem = mixed_types_error(
            name,
            column[bad].as_py(),
            path=path,
            line=line_of(bad),
            row=bad + 1,
            expected="mostly numbers",
        )
        log_text_column(problem.message)


def log_text_column(problem: str) -> None:
    """Warn that a column of numbers with words among them is read as text."""
    logger.warning(
        "%s: the column is read as text. Validation against a schema that types it as a "
        "number reports these values (wrong_type).",
        problem.split(". Fix the value", 1)[0],
    )
