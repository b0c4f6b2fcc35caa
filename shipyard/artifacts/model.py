"""The `Model` artifact: the exported model directory (docs/design/models.md).

Layout: `model.onnx` (transform + network: raw columns in), `weights.safetensors` (the
network's weights), `signature.json` (inputs, outputs, task, label vocabulary),
`schema.yaml` (the serving schema, when known), `model_card.json` and `model_card.md`.
Loading reads JSON and bytes only: no pickle, no user code.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.artifact import Artifact
from shipyard.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


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


class Model(Artifact):
    """An exported model: ONNX graph from raw rows to predictions, weights, signature, card.

    Example:
        >>> model.signature()["task"]
        'multiclass'
        >>> model.predict({"bill_length_mm": [39.1], "island": ["Biscoe"]})["class_labels"]
    """

    ONNX_FILENAME = "model.onnx"
    WEIGHTS_FILENAME = "weights.safetensors"
    SIGNATURE_FILENAME = "signature.json"
    SCHEMA_FILENAME = "schema.yaml"
    CARD_FILENAME = "model_card.json"
    CARD_MARKDOWN_FILENAME = "model_card.md"

    def save(self, value: ExportedModel) -> None:
        """Write every file of the exported model and record task and metrics in properties.

        Raises:
            DataError: The signature or card is not plain JSON (NaN included).
        """
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / self.ONNX_FILENAME).write_bytes(value.onnx)
        (self.path / self.WEIGHTS_FILENAME).write_bytes(value.weights)
        for filename, content in (
            (self.SIGNATURE_FILENAME, value.signature),
            (self.CARD_FILENAME, value.card),
        ):
            try:
                text = json.dumps(content, indent=2, sort_keys=True, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise DataError(
                    f"{filename} is not plain JSON ({exc}).", path=str(self.path / filename)
                ) from exc
            (self.path / filename).write_text(text, encoding="utf-8")
        if value.schema_yaml is not None:
            (self.path / self.SCHEMA_FILENAME).write_text(value.schema_yaml, encoding="utf-8")
        (self.path / self.CARD_MARKDOWN_FILENAME).write_text(
            card_markdown(value.card), encoding="utf-8"
        )
        self.properties["task"] = value.signature.get("task")

    def load(self) -> ExportedModel:
        """Read every file of the exported model back: what `save` wrote.

        Raises:
            NotFoundError: A file of the exported model is missing.
        """
        schema = self.path / self.SCHEMA_FILENAME
        return ExportedModel(
            onnx=self.read_onnx(),
            weights=self.required_file(self.WEIGHTS_FILENAME).read_bytes(),
            signature=self.signature(),
            card=self.card(),
            schema_yaml=schema.read_text(encoding="utf-8") if schema.is_file() else None,
        )

    def signature(self) -> dict[str, Any]:
        """Return `signature.json`: inputs, outputs, task and label vocabulary.

        Raises:
            NotFoundError: The artifact has no signature.
        """
        return self._json(self.SIGNATURE_FILENAME)

    def card(self) -> dict[str, Any]:
        """Return `model_card.json`: data, metrics, parameters and lineage.

        Raises:
            NotFoundError: The artifact has no model card.
        """
        return self._json(self.CARD_FILENAME)

    def read_onnx(self) -> bytes:
        """Return the serialized `model.onnx`.

        Raises:
            NotFoundError: The artifact has no ONNX model.
        """
        file = self.required_file(self.ONNX_FILENAME)
        return file.read_bytes()

    def predict(self, rows: pa.Table | dict[str, list[Any]]) -> dict[str, np.ndarray]:
        """Run `model.onnx` with ONNX Runtime over raw rows (the label is not needed).

        Args:
            rows: Raw rows: a table or `{column: values}`. Numbers may be null (missing);
                strings may be null or "" (missing). Extra columns are ignored.

        Returns:
            The outputs by name: `class_ids`, `probabilities` and `class_labels` for
            classification, `predictions` for regression.

        Raises:
            DataError: A required input column is missing or has the wrong type.
        """
        import pyarrow as pa

        table = rows if isinstance(rows, pa.Table) else pa.table(rows)
        session = self._session()
        feed: dict[str, np.ndarray] = {}
        for item in self.signature()["inputs"]:
            name, dtype = item["name"], item["dtype"]
            if name not in table.column_names:
                if not item.get("optional", False):
                    raise DataError(
                        f"the model needs the column {name!r}; the rows have "
                        f"{', '.join(table.column_names) or 'no column'}.",
                        column=name,
                    )
                column = pa.nulls(table.num_rows)
            else:
                column = table.column(name)
            feed[name] = _as_input(column, dtype, name).reshape(-1, 1)
        names = [o.name for o in session.get_outputs()]
        return dict(zip(names, session.run(names, feed), strict=True))

    def preview(self) -> dict[str, Any]:
        if not (self.path / self.SIGNATURE_FILENAME).is_file():
            return {"files": self.files()}
        signature = self.signature()
        card = self.card() if (self.path / self.CARD_FILENAME).is_file() else {}
        return {
            "task": signature.get("task"),
            "inputs": [i["name"] for i in signature.get("inputs", [])],
            "outputs": [o["name"] for o in signature.get("outputs", [])],
            "label_vocabulary": signature.get("label_vocabulary"),
            "metrics": card.get("metrics", {}),
        }

    def _preview_html(self) -> str:
        preview = self.preview()
        metrics = "".join(
            f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>"
            for k, v in preview.get("metrics", {}).items()
        )
        return f"<p>task: {html.escape(str(preview.get('task')))}</p><ul>{metrics}</ul>"

    def _json(self, filename: str) -> dict[str, Any]:
        file = self.required_file(filename)
        data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
        return data

    def _session(self) -> Any:
        import onnxruntime as ort  # type: ignore[import-untyped]

        cached = self.__dict__.get("_ort_session")
        if cached is None:
            cached = ort.InferenceSession(self.read_onnx(), providers=["CPUExecutionProvider"])
            self.__dict__["_ort_session"] = cached
        return cached


def _as_input(column: Any, dtype: str, name: str) -> np.ndarray:
    import numpy as np
    import pyarrow as pa

    column_type = column.type
    if dtype == "float":
        if not (
            pa.types.is_integer(column_type)
            or pa.types.is_floating(column_type)
            or pa.types.is_boolean(column_type)
            or pa.types.is_null(column_type)
            or pa.types.is_decimal(column_type)
        ):
            raise DataError(f"the model takes numbers, got {column_type}.", column=name)
        return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), np.float32)
    if not (pa.types.is_string(column_type) or pa.types.is_large_string(column_type)) and not (
        pa.types.is_null(column_type)
    ):
        raise DataError(f"the model takes strings, got {column_type}.", column=name)
    values = column.cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=object)


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
