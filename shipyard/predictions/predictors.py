"""What runs the model: an exported model directory here, or a model on a server.

Both take the tables `model_inputs` makes and answer tables of outputs (`outputs_table`),
so batch prediction has one loop for either. `LocalPredictor` runs `model.onnx` with ONNX
Runtime through `Model.predict`: the same conversion of raw columns as training's
evaluation. `RemotePredictor` sends columns to `shipyard serve` (TF Serving's columnar
`:predict`) and pins the version that answered its first request, so a new version pushed
meanwhile does not change the model halfway through a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from shipyard.artifacts.exported_model import REQUIRED_FILES, Dtype, TensorSpec
from shipyard.errors import NotFoundError, ServingError
from shipyard.predictions.outputs import output_schema, outputs_table
from shipyard.serving.repository import scan_versions

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pyarrow as pa

    from shipyard.client import Client

_DTYPES: dict[str, Dtype] = {"DT_FLOAT": "float", "DT_STRING": "string", "DT_INT64": "int64"}


class Predictor(Protocol):
    """Runs a model on tables of its input columns.

    Attributes:
        name: What runs, for messages: a directory, or a model and version on a server.
        inputs: The model's inputs.
        outputs: The model's outputs.
    """

    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def predict(self, table: pa.Table) -> pa.Table:
        """Return one row of outputs (`output_schema(outputs)`) per row of `table`."""
        ...


class LocalPredictor:
    """Runs an exported model directory's `model.onnx` with ONNX Runtime.

    Args:
        directory: A directory holding `model.onnx` and `signature.json` (see
            `find_model_dir`).

    Raises:
        NotFoundError: A file is missing.
        DataError: `signature.json` is invalid.

    Example:
        >>> predictor = LocalPredictor(find_model_dir(Path("models/penguins")))
    """

    def __init__(self, directory: Path) -> None:
        from shipyard.artifacts.model import Model

        self.name = str(directory)
        self._model = Model(directory)
        signature = self._model.typed_signature()
        self.inputs = signature.inputs
        self.outputs = signature.outputs
        self._schema = output_schema(self.outputs)

    def predict(self, table: pa.Table) -> pa.Table:
        """Run the model on `table` with `Model.predict`."""
        return outputs_table(self._model.predict(table), self._schema)


class RemotePredictor:
    """Runs a model served by `shipyard serve` (or TensorFlow Serving), one request per call.

    Args:
        client: The client of the server.
        model: The served model's name.
        version: A version; default: the newest available when this is made.
        label: A version label (not with `version`).

    Raises:
        ServingError: The server cannot be reached, does not serve the model, or answers
            metadata that is not TensorFlow Serving's.
    """

    def __init__(
        self, client: Client, model: str, *, version: int | None = None, label: str | None = None
    ) -> None:
        metadata = client.metadata(model, version=version, label=label)
        try:
            self.version = int(metadata["model_spec"]["version"])
            signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
            self.inputs = tuple(_spec(name, info) for name, info in signature["inputs"].items())
            self.outputs = tuple(_spec(name, info) for name, info in signature["outputs"].items())
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ServingError(
                f"{client.url} answered metadata of {model!r} that is not TensorFlow Serving's "
                f"(no {exc}).",
                url=client.url,
            ) from None
        self.name = f"{model!r} version {self.version} at {client.url}"
        self.client = client
        self.model = model
        self._schema = output_schema(self.outputs)

    def predict(self, table: pa.Table) -> pa.Table:
        """Send `table` as columns (`{"inputs": {...}}`) to the pinned version."""
        answer = self.client.predict(self.model, columns=table.to_pydict(), version=self.version)
        return outputs_table(self._by_output(answer, rows=False), self._schema)

    def predict_rows(self, rows: Sequence[Any]) -> pa.Table:
        """Send rows as they are (`{"instances": [...]}`) to the pinned version."""
        answer = self.client.predict(self.model, list(rows), version=self.version)
        return outputs_table(self._by_output(answer, rows=True), self._schema)

    def _by_output(self, answer: Any, *, rows: bool) -> dict[str, Any]:
        """`{output: values}` from the answer, whatever its format."""
        if len(self.outputs) == 1:
            return {self.outputs[0].name: answer}
        if not rows:
            return dict(answer)
        return {spec.name: [row[spec.name] for row in answer] for spec in self.outputs}


def find_model_dir(path: Path, *, version: int | None = None) -> Path:
    """Return the exported model directory that `path` names.

    Args:
        path: A directory holding `model.onnx` and `signature.json` (a pushed version
            `BASE/NAME/VERSION`, or a Model artifact's directory); or a base path
            `BASE/NAME` of version directories.
        version: With a base path, the version to use; default: the newest.

    Raises:
        NotFoundError: No such model, or no such version.
    """
    if version is None and all((path / name).is_file() for name in REQUIRED_FILES):
        return path
    versions = {
        number: directory
        for number, directory in scan_versions(path).items()
        if all((directory / name).is_file() for name in REQUIRED_FILES)
    }
    if version is not None:
        if version in versions:
            return versions[version]
        have = ", ".join(map(str, sorted(versions, reverse=True))) or "none"
        raise NotFoundError(f"{path} has no model version {version}; its versions: {have}.")
    if versions:
        return versions[max(versions)]
    what = "holds neither" if path.is_dir() else "does not exist: expected"
    raise NotFoundError(
        f"{path} {what} {' and '.join(REQUIRED_FILES)} nor version directories (1, 2, ...) "
        f"holding them.",
        hint="Pass an exported model: a pushed version (BASE/NAME/VERSION), its base path "
        "(BASE/NAME, for the newest version) or a Model artifact's directory.",
    )


def _spec(name: str, info: dict[str, Any]) -> TensorSpec:
    """A TensorSpec from TF Serving's `TensorInfo`; every input counts as optional here (the
    server still refuses a missing required one)."""
    dims = tuple(int(dim["size"]) for dim in info["tensor_shape"]["dim"])
    shape = tuple(None if size < 0 else size for size in dims)
    return TensorSpec(name=name, dtype=_DTYPES[info["dtype"]], shape=shape, optional=True)
