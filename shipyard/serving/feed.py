"""JSON values to ONNX Runtime feeds: one `[N, 1]` array per model input.

Numbers become float32 (NaN for missing) or int64; strings an object array ("" for
missing), exactly as `Model.predict` feeds `model.onnx`. A value may be a scalar or a
one-element list (`[39.1]`, the per-row tensor of shape `[1]`); a string may be base64,
`{"b64": "..."}`. An optional feature left out is missing in every row; `null` is a
missing value. Every problem is reported at once (up to ten), each naming the value's
place: `instances[3]['island']`.

A `FeedPlan` holds what a signature's feeds need, resolved once per served version; a
request's values then go to NumPy in one call per input, with no Python loop, when their
JSON types are the expected ones and no float is past float32's range (checked in C: a
single row's tuple of types looked up among those seen, the set of each column's types
otherwise), and are checked one by one only when they are not.
"""

from __future__ import annotations

import base64
import binascii
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, NamedTuple

from shipyard.errors import DataError

if TYPE_CHECKING:
    import numpy as np

    from shipyard.artifacts.exported_model import Signature, TensorSpec

Feed = dict[str, "np.ndarray"]
Where = Callable[[str, int], str]
"""Names the place of a value from the input's name and the row: `instances[3]['x']`."""
_DICT = frozenset({dict})
MAX_PROBLEMS = 10
_MAX_KINDS = 1024
"""The most type tuples of single rows a `FeedPlan` remembers as convertible."""
_ALLOWED_TYPES: dict[str, frozenset[type]] = {
    "float": frozenset({int, float, type(None)}),
    "int64": frozenset({int}),
    "string": frozenset({str}),
}
_RANGES = {"float": (-3.4028234663852886e38, 3.4028234663852886e38), "int64": (-(2**63), 2**63 - 1)}
_FLOAT32_MAX = _RANGES["float"][1]
_KIND = {"float": "a number", "int64": "an integer", "string": "a string"}


class Problems:
    """Problems found in one request, raised together as one `DataError`."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        """Record a problem (only the first `MAX_PROBLEMS` are kept in full)."""
        self.count += 1
        if len(self.messages) < MAX_PROBLEMS:
            self.messages.append(message)

    def raise_any(self) -> None:
        """Raise the problems recorded, if any.

        Raises:
            DataError: Listing every problem kept and how many more there were.
        """
        if not self.count:
            return
        if self.count == 1:
            raise DataError(self.messages[0])
        more = self.count - len(self.messages)
        tail = f"; and {more} more" if more else ""
        raise DataError(f"{self.count} problems in the request: {'; '.join(self.messages)}{tail}.")


class FeedPlan:
    """How one signature's inputs are fed, resolved once per served version.

    The input names, the required ones, and per input its dtype, the JSON types its fast
    conversion takes and its shape are worked out here, once, so that a request only
    gathers each input's values and converts them (`rows`, `columns`).

    Attributes:
        signature: The signature it feeds.
        names: Its input names.
        required: The names of the inputs a request may not leave out.
        takes_integers: Whether an input is int64 (its values must be read exactly).

    Example:
        >>> plan = FeedPlan(model.signature)
        >>> feed = plan.rows([{"island": "Biscoe", "bill_length_mm": 39.1}])
    """

    __slots__ = (
        "_allowed",
        "_float_positions",
        "_inputs",
        "_names",
        "_numpy_types",
        "_plain_kinds",
        "_row_values",
        "_shapes",
        "_single",
        "names",
        "required",
        "signature",
        "takes_integers",
    )

    def __init__(self, signature: Signature) -> None:
        import numpy as np

        self.signature = signature
        self.names = signature.input_names
        self._names = tuple(spec.name for spec in signature.inputs)  # in feed order
        self.required = frozenset(spec.name for spec in signature.inputs if not spec.optional)
        self._single = signature.inputs[0].name if len(signature.inputs) == 1 else None
        # A row's values in feed order, as a tuple (itemgetter of one name is no tuple).
        self._row_values = operator.itemgetter(*self._names) if len(self._names) > 1 else None
        self._float_positions = tuple(
            at for at, spec in enumerate(signature.inputs) if spec.dtype == "float"
        )
        self.takes_integers = any(spec.dtype == "int64" for spec in signature.inputs)
        numpy_types = {"float": np.float32, "int64": np.int64, "string": object}
        self._inputs = tuple(
            _Input(
                spec.name,
                spec,
                numpy_types[spec.dtype],
                _ALLOWED_TYPES[spec.dtype],
                (-1, 1) if len(spec.shape) == 2 else (-1,),
            )
            for spec in signature.inputs
        )
        self._allowed = tuple(each.allowed for each in self._inputs)
        self._numpy_types = tuple(each.numpy_type for each in self._inputs)
        self._shapes = tuple(each.shape for each in self._inputs)
        self._plain_kinds: set[tuple[type, ...]] = set()

    def rows(self, rows: Any, *, key: str = "instances") -> Feed:
        """Build a feed from row format: a list of `{feature: value}` objects.

        A model with a single input also takes a list of bare values.

        Args:
            rows: The decoded JSON list.
            key: The request field the rows came from, for messages (`instances`,
                `examples`).

        Raises:
            DataError: Not a non-empty list; a row is not an object; a required feature is
                left out; an unknown feature; a value of the wrong type.
        """
        if not isinstance(rows, list) or not rows:
            raise DataError(f"'{key}' must be a non-empty list of rows, got {_show(rows)}.")
        only = self._single
        if only is not None and not all(_is_row_object(row) for row in rows):
            return self.columns({only: rows}, where=lambda _, i: f"{key}[{i}]")
        plain = self._plain_rows(rows)
        if plain is not None:
            return plain
        problems = None
        if not _rows_are_right(rows, self.names, self.required):
            problems = Problems()
            _check_rows(self.signature, rows, key, self.required, problems)
            rows = [row if isinstance(row, dict) else {} for row in rows]
        columns = [[row.get(name) for row in rows] for name in self._names]
        return self._feed(columns, lambda name, i: f"{key}[{i}][{name!r}]", problems)

    def _plain_rows(self, rows: list[Any]) -> Feed | None:
        """The feed of rows that are objects of exactly the model's features, each value of
        a JSON type its input converts as is (nearly every request); None otherwise.

        No Python loop over the rows: their values are read in C (rows as long as the
        model's features that hold every one of them hold no other). A single row's types
        make one tuple, looked up among those seen before (`_learn`); the columns of more
        rows are checked as `_plain_columns` checks them.
        """
        row_values = self._row_values
        if row_values is None:
            return None
        try:
            if set(map(len, rows)) != {len(self._names)}:
                return None
            values = list(map(row_values, rows))
        except (KeyError, TypeError):  # a feature left out; a row not an object
            return None
        columns = list(zip(*values))  # noqa: B905 (tuples of one length)
        if len(values) > 1:
            return self._plain_columns(columns)
        kind = tuple(map(type, values[0]))
        if not (kind in self._plain_kinds or self._learn(kind)):
            return None
        return self._arrays(columns)

    def _learn(self, kind: tuple[type, ...]) -> bool:
        """Whether a row whose values have these types (in input order) converts as it is;
        remembers the tuples that do, up to `_MAX_KINDS`."""
        if not all(map(frozenset.__contains__, self._allowed, kind)):
            return False
        if len(self._plain_kinds) < _MAX_KINDS:
            self._plain_kinds.add(kind)
        return True

    def _plain_columns(self, columns: Sequence[Sequence[Any]]) -> Feed | None:
        """The feed of columns whose values all have a JSON type their input converts as
        is; None otherwise. Per input, in C: the set of its values' types."""
        types = map(set, map(map, repeat(type), columns))
        if not all(map(frozenset.issuperset, self._allowed, types)):
            return None
        return self._arrays(columns)

    def _arrays(self, columns: Sequence[Sequence[Any]]) -> Feed | None:
        """One array per input from values of the right JSON types; None when a float is
        past float32's range or an integer past int64's (`_feed` then says which).

        No Python loop, and no NumPy state that raises on overflow: entering and leaving
        it (a context variable set in the request's task, then reset) costs more than
        the whole test of the floats' magnitudes.
        """
        import numpy as np

        floats = chain.from_iterable(map(columns.__getitem__, self._float_positions))
        if _past_float32(floats):
            return None
        try:
            arrays = map(np.array, columns, self._numpy_types)
            shaped = map(np.ndarray.reshape, arrays, self._shapes)
            return dict(zip(self._names, shaped))  # noqa: B905 (one column per input)
        except (TypeError, ValueError, OverflowError):
            return None  # an integer past int64's range

    def columns(self, columns: Any, *, where: Where | None = None) -> Feed:
        """Build a feed from columnar format: `{feature: [value per row]}`.

        A model with a single input also takes the bare list of its values.

        Raises:
            DataError: Not an object of lists; columns of different lengths or none at
                all; a required feature left out; an unknown feature; a value of the wrong
                type.
        """
        where = where or (lambda name, i: f"inputs[{name!r}][{i}]")
        if isinstance(columns, list) and self._single is not None:
            columns = {self._single: columns}
        if not isinstance(columns, dict) or not columns:
            raise DataError(
                f"'inputs' must be a non-empty object mapping features to lists of values, "
                f"got {_show(columns)}."
            )
        problems = Problems()
        for name in columns.keys() - self.names:
            problems.add(f"'inputs' has the unknown feature {name!r}{_expected(self.signature)}")
        for spec in self.signature.inputs:
            if not spec.optional and spec.name not in columns:
                problems.add(f"'inputs' lacks the required feature {spec.name!r}")
        lengths = {}
        for name, values in columns.items():
            if not isinstance(values, list):
                problems.add(
                    f"inputs[{name!r}] must be a list of one value per row, got {_show(values)}"
                )
            else:
                lengths[name] = len(values)
        problems.raise_any()
        if len(set(lengths.values())) > 1:
            counts = ", ".join(f"{name!r} has {n}" for name, n in sorted(lengths.items()))
            raise DataError(f"Every input needs one value per row, but {counts} values.")
        rows = next(iter(lengths.values()))
        if rows == 0:
            raise DataError("The inputs hold no rows: send at least one value per input.")
        full = [columns.get(spec.name) or [None] * rows for spec in self._inputs]
        return self._plain_columns(full) or self._feed(full, where, problems)

    def _feed(
        self, columns: Sequence[Sequence[Any]], where: Where, problems: Problems | None
    ) -> Feed:
        """Each input's values (in signature order) as an array; raise what is wrong."""
        import numpy as np

        feed = {}
        for spec, values in zip(self._inputs, columns, strict=True):
            if set(map(type, values)) <= spec.allowed and not (
                spec.numpy_type is np.float32 and _past_float32(values)
            ):
                try:
                    feed[spec.name] = np.array(values, spec.numpy_type).reshape(spec.shape)
                    continue
                except (TypeError, ValueError, OverflowError):
                    pass  # an integer past int64's range: each value is checked below
            problems = problems or Problems()
            feed[spec.name] = _checked_column(spec, values, where, problems)
        if problems is not None:
            problems.raise_any()
        return feed


def _past_float32(values: Iterable[Any]) -> bool:
    """Whether some value's magnitude is past float32's range (NumPy would make it an
    infinity): tested in C, `None` and zeros skipped. NaN is never past; an infinity (which
    the standard library's parser reads) is, and the value-by-value check (`_number`) then
    keeps it."""
    return any(map(_FLOAT32_MAX.__lt__, map(abs, filter(None, values))))


class _Input(NamedTuple):
    """One input as `FeedPlan` feeds it: its array type, the JSON types it takes fast, shape."""

    name: str
    spec: TensorSpec
    numpy_type: Any
    allowed: frozenset[type]
    shape: tuple[int, ...]


def _check_rows(
    signature: Signature, rows: list[Any], key: str, needed: frozenset[str], problems: Problems
) -> None:
    """Record what is wrong with each row: not an object, unknown or missing features."""
    names = signature.input_names
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.add(f"{key}[{index}] must be an object of features, got {_show(row)}")
            continue
        for name in row.keys() - names:
            problems.add(f"{key}[{index}] has the unknown feature {name!r}{_expected(signature)}")
        for name in (spec.name for spec in signature.inputs if spec.name in needed):
            if name not in row:
                problems.add(f"{key}[{index}] lacks the required feature {name!r}")


def _rows_are_right(rows: list[Any], names: frozenset[str], required: frozenset[str]) -> bool:
    """Whether every row is an object of known features with every required one.

    The check of the rows that are right (nearly all of them) runs in C: one union of their
    keys, and a subset test per row only when some feature is required.
    """
    if not set(map(type, rows)) <= _DICT and not all(isinstance(row, dict) for row in rows):
        return False  # (decoded JSON rows are exactly dicts: the set is the C-speed check)
    if not set().union(*rows) <= names:
        return False
    return not required or all(required <= row.keys() for row in rows)


def _checked_column(
    spec: _Input, values: Sequence[Any], where: Where, problems: Problems
) -> np.ndarray:
    """One input's values checked one by one: each problem recorded, naming its place."""
    import numpy as np

    tensor = spec.spec
    if tensor.dtype == "string":
        converted: list[Any] = [
            _string(tensor, v, where, i, problems) for i, v in enumerate(values)
        ]
    else:
        converted = [_number(tensor, v, where, i, problems) for i, v in enumerate(values)]
    return np.array(converted, dtype=spec.numpy_type).reshape(spec.shape)


def _string(spec: TensorSpec, value: Any, where: Where, index: int, problems: Problems) -> str:
    if type(value) is list and len(value) == 1:
        value = value[0]
    if value is None or type(value) is str:
        return value or ""
    if _is_b64(value):
        try:
            return base64.b64decode(value["b64"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            problems.add(f"{where(spec.name, index)}: the b64 value is not base64 of UTF-8 ({exc})")
            return ""
    problems.add(f"{where(spec.name, index)} must be {_KIND['string']}, got {_show(value)}")
    return ""


def _number(
    spec: TensorSpec, value: Any, where: Where, index: int, problems: Problems
) -> float | int:
    if type(value) is list and len(value) == 1:
        value = value[0]
    if value is None and spec.dtype == "float":
        return float("nan")
    if type(value) is int or (type(value) is float and spec.dtype == "float"):
        low, high = _RANGES[spec.dtype]
        if low <= value <= high or (type(value) is float and not math.isfinite(value)):
            return value
        problems.add(f"{where(spec.name, index)} = {value!r} is out of range for {spec.dtype}")
        return 0
    missing = " (this input has no missing value)" if value is None else ""
    problems.add(
        f"{where(spec.name, index)} must be {_KIND[spec.dtype]}, got {_show(value)}{missing}"
    )
    return 0


def _is_row_object(row: Any) -> bool:
    return isinstance(row, dict) and not _is_b64(row)


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _expected(signature: Signature) -> str:
    return f" (the model takes {', '.join(spec.name for spec in signature.inputs)})"


def _show(value: Any) -> str:
    """Describe a JSON value briefly: its text (cut at 40 characters) and its JSON type."""
    kind = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)
    if value is None:
        return kind
    text = repr(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{text} ({kind})"
