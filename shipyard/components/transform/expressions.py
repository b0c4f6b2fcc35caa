"""The preprocessing expression graph: raw columns and the ops a preprocessing function uses.

A preprocessing function receives the raw columns as `Expr` values and returns
`{output_name: Expr}`. Building an expression runs no analyzer: it only records the op, its
inputs and its options, and checks the input kinds, so a mistake (z-score of a string) fails
at the user's line. Analyzers (means, vocabularies, quantiles) are fitted later, over the
training split, by `shipyard.components.transform.fit`.

Every expression has a kind:

- `float`: a number (float32; a missing value is NaN),
- `string`: a string (a missing value is ""),
- `id`: a categorical id (int64, from `vocabulary`, `hash_buckets`, `bucketize`, `cross`).

Model inputs are `float` or `id` expressions; a `string` must be mapped to ids first.

Example:
    >>> def preprocessing(columns):
    ...     return {
    ...         "bill": scale_to_z_score(impute(columns["bill_length_mm"])),
    ...         "island": vocabulary(columns["island"], top_k=10),
    ...     }
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shipyard.errors import DefinitionError, InvalidParameterError

Kind = Literal["float", "string", "id"]
ImputeStrategy = Literal["mean", "median", "constant", "most_frequent"]


@dataclass(frozen=True, eq=False)
class Expr:
    """One node of the preprocessing graph.

    Attributes:
        op: The op's name (`column`, `z_score`, `vocabulary`, ...).
        kind: What it yields: `float`, `string` or `id`.
        inputs: The expressions it reads.
        options: Its JSON-serialisable options (`num_buckets`, `top_k`, ...).
    """

    op: str
    kind: Kind
    inputs: tuple[Expr, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """Return a short readable form, for error messages: `z_score(column('x'))`."""
        if self.op == "column":
            return f"column({self.options['name']!r})"
        return f"{self.op}({', '.join(i.describe() for i in self.inputs)})"

    def __repr__(self) -> str:
        return f"<Expr {self.describe()}: {self.kind}>"


def Column(name: str, kind: Kind = "float") -> Expr:
    """A raw column: `float` for numbers and booleans, `string` for strings."""
    if kind not in ("float", "string"):
        raise InvalidParameterError(
            f"Column({name!r}, kind={kind!r}): a raw column is 'float' or 'string'."
        )
    return Expr("column", kind, (), {"name": name})


class Columns(Mapping[str, Expr]):
    """The raw columns a preprocessing function receives, by name.

    Asking for a column that does not exist raises `DefinitionError` listing the columns.
    """

    def __init__(self, columns: Mapping[str, Expr], *, skipped: Mapping[str, str]) -> None:
        self._columns = dict(columns)
        self._skipped = dict(skipped)

    def __getitem__(self, name: str) -> Expr:
        if name in self._columns:
            return self._columns[name]
        if name in self._skipped:
            raise DefinitionError(
                f"preprocessing: column {name!r} has type {self._skipped[name]}, which "
                f"transform does not handle; use a number or string column."
            )
        raise DefinitionError(
            f"preprocessing: no column {name!r}; the columns are "
            f"{', '.join(sorted(self._columns)) or 'none'}. Fix the name in your "
            f"preprocessing function."
        )

    def get(self, name: str, default: Any = None) -> Any:
        """Return the column, or `default` when there is none."""
        return self._columns.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def _expect(op: str, x: Any, kinds: tuple[Kind, ...], hint: str) -> Expr:
    if not isinstance(x, Expr):
        raise DefinitionError(
            f"{op}() expects a column expression, got {type(x).__name__} {x!r}; pass "
            f"columns['name'] or the result of another op."
        )
    if x.kind not in kinds:
        raise DefinitionError(
            f"{op}() needs a {' or '.join(kinds)} input, got {x.describe()} which is a "
            f"{x.kind}; {hint}"
        )
    return x


def _positive(op: str, name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameterError(
            f"{op}(): {name} must be an integer >= {minimum}, got {value!r}."
        )
    return value


_NUMBERS_ONLY = "it scales numbers; map strings to ids with vocabulary() or hash_buckets()."


def scale_to_z_score(x: Expr) -> Expr:
    """`(x - mean) / std` with the train split's mean and (population) standard deviation.

    A constant column (std 0) yields `x - mean`. NaN stays NaN: impute first.
    """
    return Expr("z_score", "float", (_expect("scale_to_z_score", x, ("float",), _NUMBERS_ONLY),))


def scale_min_max(x: Expr) -> Expr:
    """`(x - min) / (max - min)` with the train split's min and max (0 for a constant column).

    Values outside the training range map outside [0, 1]. NaN stays NaN.
    """
    return Expr("min_max", "float", (_expect("scale_min_max", x, ("float",), _NUMBERS_ONLY),))


def log1p(x: Expr) -> Expr:
    """`log(x + 1)`; NaN for x < -1."""
    return Expr("log1p", "float", (_expect("log1p", x, ("float",), _NUMBERS_ONLY),))


def impute(x: Expr, strategy: ImputeStrategy = "mean", value: float | str | None = None) -> Expr:
    """Replace missing values (NaN numbers, empty or null strings) with one fitted value.

    Args:
        x: A `float` or `string` expression.
        strategy: For numbers `mean`, `median` or `constant`; for strings `most_frequent`
            or `constant`. Means and medians are computed over the train split.
        value: The value for `constant` (a number, or a string for strings).
    """
    x = _expect("impute", x, ("float", "string"), "impute numbers or strings, before mapping.")
    allowed = ("mean", "median", "constant") if x.kind == "float" else ("most_frequent", "constant")
    if strategy not in allowed:
        raise InvalidParameterError(
            f"impute({x.describe()}, strategy={strategy!r}): a {x.kind} takes "
            f"{' or '.join(repr(a) for a in allowed)}."
        )
    if strategy == "constant":
        expected = str if x.kind == "string" else (int, float)
        if isinstance(value, bool) or not isinstance(value, expected):
            raise InvalidParameterError(
                f"impute({x.describe()}, strategy='constant') needs value= a "
                f"{'string' if x.kind == 'string' else 'number'}, got {value!r}."
            )
    options: dict[str, Any] = {"strategy": strategy}
    if strategy == "constant":
        options["value"] = value if x.kind == "string" else float(value)  # type: ignore[arg-type]
    return Expr("impute", x.kind, (x,), options)


def bucketize(x: Expr, num_buckets: int) -> Expr:
    """Bucket ids `0 .. num_buckets - 1` by the train split's quantiles.

    The boundaries are the quantiles at `i / num_buckets` (linear interpolation, duplicates
    dropped); a value's id is the number of boundaries `<=` it. NaN maps to 0: impute first.
    """
    x = _expect("bucketize", x, ("float",), "bucketize numbers only.")
    return Expr(
        "bucketize", "id", (x,), {"num_buckets": _positive("bucketize", "num_buckets", num_buckets)}
    )


def vocabulary(x: Expr, top_k: int | None = None, num_oov_buckets: int = 1) -> Expr:
    """Map strings to ids by the train split's vocabulary, most frequent first.

    Ids `0 .. V-1` are the vocabulary, ordered by frequency, then by value; `top_k` keeps
    the `top_k` most frequent. A missing value is "" and is a value like any other. Values
    outside the vocabulary get ids `V .. V + num_oov_buckets - 1`: those seen in training
    (dropped by `top_k`) by a stable hash of the value, unseen ones always `V`, since the
    exported ONNX graph cannot hash strings it has not stored.
    """
    x = _expect("vocabulary", x, ("string",), "bucketize numbers instead.")
    if top_k is not None:
        _positive("vocabulary", "top_k", top_k)
    options = {
        "top_k": top_k,
        "num_oov_buckets": _positive("vocabulary", "num_oov_buckets", num_oov_buckets),
    }
    return Expr("vocabulary", "id", (x,), options)


def hash_buckets(x: Expr, num_buckets: int) -> Expr:
    """Map strings to ids `0 .. num_buckets - 1` by a stable hash (SHA-256) of the value.

    ONNX has no string hash op, so the hash of every value seen in the train split is
    stored in a table; a value never seen in training maps to the reserved id
    `num_buckets`. There are thus `num_buckets + 1` ids.
    """
    x = _expect("hash_buckets", x, ("string",), "bucketize numbers instead.")
    return Expr(
        "hash_buckets",
        "id",
        (x,),
        {"num_buckets": _positive("hash_buckets", "num_buckets", num_buckets)},
    )


def cross(a: Expr, b: Expr, num_buckets: int) -> Expr:
    """The crossed id `(a * size(b) + b) mod num_buckets` of two categorical ids."""
    hint = "cross ids: apply vocabulary(), hash_buckets() or bucketize() first."
    a = _expect("cross", a, ("id",), hint)
    b = _expect("cross", b, ("id",), hint)
    return Expr(
        "cross", "id", (a, b), {"num_buckets": _positive("cross", "num_buckets", num_buckets)}
    )


def columns_of(expr: Expr) -> set[str]:
    """Return the raw column names an expression reads."""
    if expr.op == "column":
        return {str(expr.options["name"])}
    found: set[str] = set()
    for item in expr.inputs:
        found |= columns_of(item)
    return found
