"""`signature.json` as typed specs: what a served model takes and returns.

Every input holds one value per row: shape `[N]` or `[N, 1]`, dtype `float` (float32, NaN
is missing), `string` ("" is missing) or `int64`. `optional` inputs may be left out of a
request; required ones must be sent (a null value still means missing, as in
`Model.predict`); an int64 input has no missing value, so it is never optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from shipyard.errors import DataError

Dtype = Literal["float", "string", "int64"]
TASKS = ("binary", "multiclass", "regression")
_DTYPES: tuple[Dtype, ...] = ("float", "string", "int64")


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of the model.

    Attributes:
        name: The tensor's name in `model.onnx`.
        dtype: `float`, `string` or `int64`.
        shape: Dimensions; None for the batch dimension and any unknown one.
        optional: For inputs, whether a request may leave the feature out.
    """

    name: str
    dtype: Dtype
    shape: tuple[int | None, ...]
    optional: bool = False


@dataclass(frozen=True)
class Signature:
    """The model's contract: task, inputs, outputs and label vocabulary."""

    task: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    label_vocabulary: tuple[str, ...] | None = None

    @property
    def input_names(self) -> frozenset[str]:
        """The names of every input."""
        return frozenset(spec.name for spec in self.inputs)

    def output(self, name: str) -> TensorSpec | None:
        """Return the output called `name`, or None."""
        return next((spec for spec in self.outputs if spec.name == name), None)


def parse_signature(data: Any) -> Signature:
    """Check and type the content of `signature.json`.

    Raises:
        DataError: A field is missing or of the wrong kind, or an input is not one value
            per row.
    """
    if not isinstance(data, dict):
        raise DataError("signature.json must hold a JSON object.")
    task = data.get("task")
    if task not in TASKS:
        raise DataError(f"signature.json: 'task' must be one of {', '.join(TASKS)}, got {task!r}.")
    inputs = tuple(_spec(item, "inputs") for item in _items(data, "inputs"))
    outputs = tuple(_spec(item, "outputs") for item in _items(data, "outputs"))
    for spec in inputs:
        if spec.optional and spec.dtype == "int64":
            raise DataError(
                f"signature.json: the int64 input {spec.name!r} is optional, but int64 has no "
                f"missing value; make it a float input or required."
            )
        if spec.shape[1:] not in ((), (1,)):
            raise DataError(
                f"signature.json: the input {spec.name!r} has shape {list(spec.shape)}; "
                f"serving takes inputs of one value per row ([N] or [N, 1])."
            )
    vocabulary = data.get("label_vocabulary")
    if vocabulary is not None and not (
        isinstance(vocabulary, list) and all(isinstance(v, str) for v in vocabulary)
    ):
        raise DataError("signature.json: 'label_vocabulary' must be a list of strings.")
    return Signature(
        task=task,
        inputs=inputs,
        outputs=outputs,
        label_vocabulary=None if vocabulary is None else tuple(vocabulary),
    )


def _items(data: dict[str, Any], key: str) -> list[Any]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise DataError(f"signature.json: {key!r} must be a non-empty list.")
    return items


def _spec(item: Any, key: str) -> TensorSpec:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise DataError(f"signature.json: every entry of {key!r} needs a 'name', got {item!r}.")
    name, dtype, shape = item["name"], item.get("dtype"), item.get("shape", [None])
    if dtype not in _DTYPES:
        raise DataError(
            f"signature.json: {key} {name!r} has dtype {dtype!r}; serving supports "
            f"{', '.join(_DTYPES)}."
        )
    if not (
        isinstance(shape, list)
        and shape
        and all(d is None or (isinstance(d, int) and d >= 0) for d in shape)
    ):
        raise DataError(f"signature.json: {key} {name!r} has an invalid shape {shape!r}.")
    return TensorSpec(
        name=name, dtype=dtype, shape=tuple(shape), optional=bool(item.get("optional", False))
    )
