"""The exported model directory: its files, `signature.json`, and the one reader and writer.

Every exported model, whether a `Model` artifact or a version pushed to `BASE/NAME/VERSION/`,
is a directory of:

    model.onnx           transform + network in one graph: raw feature columns in
    weights.safetensors  the network's weights
    signature.json       task, inputs (name, dtype, shape, optional), outputs, label vocabulary
    schema.yaml          the data schema at serving (when known)
    model_card.json      data, metrics, parameters, lineage; `model_card.md` for people

This module owns the format (docs/design/models.md): training writes it with
`write_exported_model` (`read_exported_model` reads it all back); the `Model` artifact,
the server (`shipyard.serving`) and batch prediction (`shipyard.predictions`) read it with
`load_signature` and check `model.onnx` against it with `check_session`. Nothing else opens
these files by name.

Every input holds one value per row: shape `[N]` or `[N, 1]`, dtype `float` (float32, NaN
is missing), `string` ("" is missing) or `int64`. `optional` inputs may be left out of a
request; required ones must be sent (a null value still means missing); an int64 input has
no missing value, so it is never optional. Reading executes no user code and no pickle.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from shipyard.errors import DataError, NotFoundError

if TYPE_CHECKING:
    from pathlib import Path

ONNX_FILENAME = "model.onnx"
WEIGHTS_FILENAME = "weights.safetensors"
SIGNATURE_FILENAME = "signature.json"
SCHEMA_FILENAME = "schema.yaml"
CARD_FILENAME = "model_card.json"
CARD_MARKDOWN_FILENAME = "model_card.md"
REQUIRED_FILES = (ONNX_FILENAME, SIGNATURE_FILENAME)
"""The files a directory must hold to be loaded, served or run."""

_ORT_TYPES = {"tensor(float)": "float", "tensor(string)": "string", "tensor(int64)": "int64"}


@dataclass(frozen=True)
class ExportedModel:
    """The files of an exported model, in memory.

    Attributes:
        onnx: The serialized `model.onnx`.
        weights: The serialized `weights.safetensors`.
        signature: The `signature.json` content.
        card: The `model_card.json` content.
        schema_yaml: The serving schema as YAML, or None.
    """

    onnx: bytes
    weights: bytes
    signature: dict[str, Any]
    card: dict[str, Any]
    schema_yaml: str | None = None


def write_exported_model(directory: Path, value: ExportedModel) -> None:
    """Write every file of an exported model into `directory` (created if missing).

    Raises:
        DataError: The signature or card is not plain JSON (NaN included), or the signature
            is not one that `load_signature` reads back.
    """
    parse_signature(value.signature, where=str(directory / SIGNATURE_FILENAME))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ONNX_FILENAME).write_bytes(value.onnx)
    (directory / WEIGHTS_FILENAME).write_bytes(value.weights)
    for filename, content in ((SIGNATURE_FILENAME, value.signature), (CARD_FILENAME, value.card)):
        try:
            text = json.dumps(content, indent=2, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"{filename} is not plain JSON ({exc}).", path=str(directory / filename)
            ) from exc
        (directory / filename).write_text(text, encoding="utf-8")
    if value.schema_yaml is not None:
        (directory / SCHEMA_FILENAME).write_text(value.schema_yaml, encoding="utf-8")
    (directory / CARD_MARKDOWN_FILENAME).write_text(card_markdown(value.card), encoding="utf-8")


def read_exported_model(directory: Path) -> ExportedModel:
    """Read every file of an exported model back: what `write_exported_model` wrote.

    Raises:
        NotFoundError: A file of the exported model is missing.
        DataError: `signature.json` or `model_card.json` is not a JSON object.
    """
    files = {name: directory / name for name in (ONNX_FILENAME, WEIGHTS_FILENAME)}
    for file in files.values():
        if not file.is_file():
            raise NotFoundError(f"{file} does not exist: not an exported model directory?")
    schema = directory / SCHEMA_FILENAME
    return ExportedModel(
        onnx=files[ONNX_FILENAME].read_bytes(),
        weights=files[WEIGHTS_FILENAME].read_bytes(),
        signature=read_json(directory / SIGNATURE_FILENAME),
        card=read_json(directory / CARD_FILENAME),
        schema_yaml=schema.read_text(encoding="utf-8") if schema.is_file() else None,
    )


def read_json(file: Path) -> dict[str, Any]:
    """Return the JSON object in `file` (`signature.json`, `model_card.json`).

    Raises:
        NotFoundError: The file does not exist.
        DataError: It is not valid UTF-8 JSON, or not an object.
    """
    try:
        data = json.loads(file.read_bytes())
    except FileNotFoundError:
        raise NotFoundError(f"{file} does not exist: not an exported model directory?") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise DataError(f"not valid JSON: {exc}.", path=str(file)) from exc
    if not isinstance(data, dict):
        raise DataError(f"must hold a JSON object, got {type(data).__name__}.", path=str(file))
    return data


def load_signature(file: Path) -> Signature:
    """Read and check a `signature.json` file.

    Raises:
        NotFoundError: The file does not exist.
        DataError: It is not valid JSON, or a field is missing or of the wrong kind.
    """
    return parse_signature(read_json(file), where=str(file))


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

    @functools.cached_property
    def input_names(self) -> frozenset[str]:
        """The names of every input (made once: every served request reads it)."""
        return frozenset(spec.name for spec in self.inputs)

    def output(self, name: str) -> TensorSpec | None:
        """Return the output called `name`, or None."""
        return next((spec for spec in self.outputs if spec.name == name), None)


def parse_signature(data: Any, *, where: str = SIGNATURE_FILENAME) -> Signature:
    """Check and type the content of `signature.json`.

    Args:
        data: The decoded JSON.
        where: The file it came from, for messages.

    Raises:
        DataError: A field is missing or of the wrong kind, or an input is not one value
            per row.
    """
    if not isinstance(data, dict):
        raise DataError("must hold a JSON object.", path=where)
    task = data.get("task")
    if task not in TASKS:
        raise DataError(f"'task' must be one of {', '.join(TASKS)}, got {task!r}.", path=where)
    inputs = tuple(_spec(item, "inputs", where) for item in _items(data, "inputs", where))
    outputs = tuple(_spec(item, "outputs", where) for item in _items(data, "outputs", where))
    for spec in inputs:
        if spec.optional and spec.dtype == "int64":
            raise DataError(
                f"the int64 input {spec.name!r} is optional, but int64 has no missing value; "
                f"make it a float input or required.",
                path=where,
            )
        if spec.shape[1:] not in ((), (1,)):
            raise DataError(
                f"the input {spec.name!r} has shape {list(spec.shape)}; serving takes inputs "
                f"of one value per row ([N] or [N, 1]).",
                path=where,
            )
    vocabulary = data.get("label_vocabulary")
    if vocabulary is not None and not (
        isinstance(vocabulary, list) and all(isinstance(v, str) for v in vocabulary)
    ):
        raise DataError("'label_vocabulary' must be a list of strings.", path=where)
    return Signature(
        task=task,
        inputs=inputs,
        outputs=outputs,
        label_vocabulary=None if vocabulary is None else tuple(vocabulary),
    )


def _items(data: dict[str, Any], key: str, where: str) -> list[Any]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise DataError(f"{key!r} must be a non-empty list.", path=where)
    return items


def _spec(item: Any, key: str, where: str) -> TensorSpec:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise DataError(f"every entry of {key!r} needs a 'name', got {item!r}.", path=where)
    name, dtype, shape = item["name"], item.get("dtype"), item.get("shape", [None])
    if dtype not in _DTYPES:
        raise DataError(
            f"{key} {name!r} has dtype {dtype!r}; serving supports {', '.join(_DTYPES)}.",
            path=where,
        )
    if not (
        isinstance(shape, list)
        and shape
        and all(d is None or (isinstance(d, int) and d >= 0) for d in shape)
    ):
        raise DataError(f"{key} {name!r} has an invalid shape {shape!r}.", path=where)
    return TensorSpec(
        name=name, dtype=dtype, shape=tuple(shape), optional=bool(item.get("optional", False))
    )


def check_session(session: Any, signature: Signature, *, where: str = ONNX_FILENAME) -> None:
    """Check that an ONNX Runtime session's inputs and outputs are the signature's.

    Args:
        session: An `onnxruntime.InferenceSession` of `model.onnx`.
        signature: The model's signature.
        where: The model, for messages.

    Raises:
        DataError: An input or output is missing from either, or of another type.
    """
    inputs = {item.name: item for item in session.get_inputs()}
    outputs = {item.name: item for item in session.get_outputs()}
    problems = []
    for kind, specs, found in (
        ("input", signature.inputs, inputs),
        ("output", signature.outputs, outputs),
    ):
        for spec in specs:
            item = found.get(spec.name)
            if item is None:
                problems.append(
                    f"signature.json lists the {kind} {spec.name!r}, model.onnx has none"
                )
            elif _ORT_TYPES.get(item.type) != spec.dtype:
                problems.append(
                    f"the {kind} {spec.name!r} is {spec.dtype} in signature.json, "
                    f"{item.type} in model.onnx"
                )
    extra = inputs.keys() - {spec.name for spec in signature.inputs}
    problems += [
        f"model.onnx takes the input {name!r}, signature.json does not list it"
        for name in sorted(extra)
    ]
    if problems:
        raise DataError(
            "model.onnx does not match signature.json: " + "; ".join(problems) + ".", path=where
        )


@functools.cache
def ort_errors() -> tuple[type[Exception], ...]:
    """The exceptions ONNX Runtime raises for bad models or inputs."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state  # type: ignore[import-untyped]

    names = (
        "Fail",
        "InvalidArgument",
        "InvalidGraph",
        "InvalidProtobuf",
        "RuntimeException",
        "NotImplemented",
        "NoSuchFile",
        "NoModel",
        "ModelLoaded",
        "EPFail",
    )
    return tuple(getattr(state, name) for name in names if hasattr(state, name))


def card_markdown(card: dict[str, Any]) -> str:
    """Render a model card as Markdown, for people."""
    lines = [f"# Model card: {card.get('name', 'model')}", ""]
    reason = f" ({card['task_reason']})" if card.get("task_reason") else ""
    lines += [
        f"- **Task**: {card.get('task')}{reason}",
        f"- **Estimator**: {card.get('estimator')}",
    ]
    if card.get("positive_class") is not None:
        why = card.get("positive_class_reason")
        lines.append(
            f"- **Positive class**: `{card['positive_class']}`{f' ({why})' if why else ''}"
        )
    if card.get("label"):
        lines.append(f"- **Label**: `{card['label']}`")
    if card.get("classes"):
        lines.append(f"- **Classes**: {', '.join(map(str, card['classes']))}")
    lines += ["", "## Data", ""]
    for key, value in card.get("data", {}).items():
        lines.append(f"- {key}: {value}")
    lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
    for key, value in card.get("metrics", {}).items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    lines += ["", "## Parameters", ""]
    for key, value in card.get("parameters", {}).items():
        lines.append(f"- `{key}`: `{json.dumps(value)}`")
    lines += ["", "## Lineage", ""]
    for key, value in card.get("lineage", {}).items():
        lines.append(f"- {key}: {value}")
    return "\n".join(lines) + "\n"
