"""The `TransformGraph` artifact: a fitted preprocessing graph, as JSON and as ONNX.

Layout: `transform.json` (the fitted graph: ops, options and analyzer values, plain JSON)
and `transform.onnx` (the same graph from raw served rows to model inputs). Loading reads
JSON and bytes only: no pickle, no user code.
"""

from __future__ import annotations

import json
from typing import Any

from shipyard.artifacts.artifact import Artifact
from shipyard.errors import DataError


class TransformGraph(Artifact):
    """A fitted transform: `transform.json` (spec) and `transform.onnx` (serving graph).

    Example:
        >>> transform_graph.save((spec, onnx_bytes))
        >>> transform_graph.spec()["outputs"]
    """

    SPEC_FILENAME = "transform.json"
    ONNX_FILENAME = "transform.onnx"

    def save(self, value: tuple[dict[str, Any], bytes]) -> None:
        """Write a `(spec, onnx_bytes)` pair; record the outputs and the label.

        Raises:
            DataError: The spec is not JSON-serialisable.
        """
        spec, model = value
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            text = json.dumps(spec, indent=2, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"transform spec is not plain JSON ({exc}); analyzer values must be finite "
                f"numbers, strings and lists.",
                path=str(self.path / self.SPEC_FILENAME),
            ) from exc
        (self.path / self.SPEC_FILENAME).write_text(text, encoding="utf-8")
        (self.path / self.ONNX_FILENAME).write_bytes(model)
        self.properties["outputs"] = sorted(spec.get("outputs", {}))
        self.properties["label"] = spec.get("label")

    def load(self) -> tuple[dict[str, Any], bytes]:
        """Read the `(spec, onnx_bytes)` pair back: what `save` wrote.

        Raises:
            NotFoundError: The artifact has no spec or no ONNX model.
        """
        return self.spec(), self.read_onnx()

    def spec(self) -> dict[str, Any]:
        """Read the spec (`transform.json`) back as a JSON dict.

        Raises:
            NotFoundError: The artifact has no spec.
        """
        file = self.required_file(self.SPEC_FILENAME)
        spec: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
        return spec

    def read_onnx(self) -> bytes:
        """Return the serialized ONNX model (`transform.onnx`).

        Raises:
            NotFoundError: The artifact has no ONNX model.
        """
        file = self.required_file(self.ONNX_FILENAME)
        return file.read_bytes()

    def preview(self) -> dict[str, Any]:
        if not (self.path / self.SPEC_FILENAME).is_file():
            return {}
        spec = self.spec()
        return {
            "outputs": {
                name: spec["nodes"][index]["op"] for name, index in spec.get("outputs", {}).items()
            },
            "label": spec.get("label"),
            "label_vocabulary": spec.get("label_vocabulary"),
        }
