"""The `Model` artifact: an exported model directory in the store.

`shipyard.artifacts.exported_model` owns the directory's format (files, `signature.json`);
this artifact writes and reads it through that module and runs `model.onnx` on raw rows.
Loading reads JSON and bytes only: no pickle, no user code.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import exported_model as exported
from shipyard.artifacts.artifact import Artifact
from shipyard.artifacts.exported_model import ExportedModel
from shipyard.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from shipyard.artifacts.exported_model import Signature

__all__ = ["ExportedModel", "Model"]


class Model(Artifact):
    """An exported model: ONNX graph from raw rows to predictions, weights, signature, card.

    Example:
        >>> model.signature()["task"]
        'multiclass'
        >>> model.predict({"bill_length_mm": [39.1], "island": ["Biscoe"]})["class_labels"]
    """

    ONNX_FILENAME = exported.ONNX_FILENAME
    WEIGHTS_FILENAME = exported.WEIGHTS_FILENAME
    SIGNATURE_FILENAME = exported.SIGNATURE_FILENAME
    SCHEMA_FILENAME = exported.SCHEMA_FILENAME
    CARD_FILENAME = exported.CARD_FILENAME
    CARD_MARKDOWN_FILENAME = exported.CARD_MARKDOWN_FILENAME

    def save(self, value: ExportedModel) -> None:
        """Write every file of the exported model and record the task in properties.

        Raises:
            DataError: The signature or card is not plain JSON (NaN included), or the
                signature is invalid.
        """
        exported.write_exported_model(self.path, value)
        self.properties["task"] = value.signature.get("task")

    def load(self) -> ExportedModel:
        """Read every file of the exported model back: what `save` wrote.

        Raises:
            NotFoundError: A file of the exported model is missing.
            DataError: `signature.json` or `model_card.json` is not a JSON object.
        """
        return exported.read_exported_model(self.path)

    def signature(self) -> dict[str, Any]:
        """Return `signature.json`: inputs, outputs, task and label vocabulary.

        Raises:
            NotFoundError: The artifact has no signature.
        """
        return self._json(self.SIGNATURE_FILENAME)

    def typed_signature(self) -> Signature:
        """Return `signature.json` checked and typed, as serving reads it.

        Raises:
            NotFoundError: The artifact has no signature.
            DataError: The signature is invalid.
        """
        return exported.load_signature(self.required_file(self.SIGNATURE_FILENAME))

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
        for spec in self.typed_signature().inputs:
            name, dtype = spec.name, spec.dtype
            if name not in table.column_names:
                if not spec.optional:
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
        """The signature's task, inputs and outputs (name, dtype, shape, optional), the model
        card, its metrics, and every file with its size (`files`: `name`, `size_bytes`)."""
        files = [
            {"name": name, "size_bytes": (self.path / name).stat().st_size} for name in self.files()
        ]
        if not (self.path / self.SIGNATURE_FILENAME).is_file():
            return {"files": files}
        signature = self.signature()
        card = self.card() if (self.path / self.CARD_FILENAME).is_file() else {}
        return {
            "task": signature.get("task"),
            "inputs": signature.get("inputs", []),
            "outputs": signature.get("outputs", []),
            "label_vocabulary": signature.get("label_vocabulary"),
            "metrics": card.get("metrics", {}),
            "card": card,
            "files": files,
        }

    def _preview_html(self) -> str:
        preview = self.preview()
        metrics = "".join(
            f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>"
            for k, v in preview.get("metrics", {}).items()
        )
        return f"<p>task: {html.escape(str(preview.get('task')))}</p><ul>{metrics}</ul>"

    def _json(self, filename: str) -> dict[str, Any]:
        return exported.read_json(self.required_file(filename))

    def _session(self) -> Any:
        import onnxruntime as ort  # type: ignore[import-untyped]

        cached = self.__dict__.get("_ort_session")
        if cached is None:
            try:
                cached = ort.InferenceSession(self.read_onnx(), providers=["CPUExecutionProvider"])
            except exported.ort_errors() as exc:
                raise DataError(
                    f"ONNX Runtime cannot load it: {exc}", path=str(self.path / self.ONNX_FILENAME)
                ) from exc
            exported.check_session(
                cached, self.typed_signature(), where=str(self.path / self.ONNX_FILENAME)
            )
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
