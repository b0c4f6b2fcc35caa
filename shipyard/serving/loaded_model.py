"""One served version of a model: its signature, its ONNX Runtime session, its requests.

A `LoadedModel` counts the requests running on it. Once the registry has retired it (a
newer version took its place), its session is released when the last of those requests
leaves, so a version switch never cuts a request short.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataError, InvalidParameterError
from shipyard.serving.repository import model_file
from shipyard.serving.signature import Signature, parse_signature

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import numpy as np

    from shipyard.serving.batching import BatchQueue, BatchScheduler
    from shipyard.serving.config import RuntimeOptions
    from shipyard.serving.feed import Feed

_ORT_TYPES = {"tensor(float)": "float", "tensor(string)": "string", "tensor(int64)": "int64"}


class LoadedModel:
    """A version ready to serve.

    Attributes:
        name: The model's served name.
        version: The version number.
        path: The version directory.
        signature: Inputs, outputs, task and label vocabulary.
        batches: The queue that batches its requests, when the server batches.
    """

    def __init__(
        self, *, name: str, version: int, path: Path, signature: Signature, session: Any
    ) -> None:
        self.name = name
        self.version = version
        self.path = path
        self.signature = signature
        self._session: Any = session
        self._output_names = [spec.name for spec in signature.outputs]
        self._condition = threading.Condition()
        self._in_flight = 0
        self._retired = False
        self.batches: BatchQueue | None = None

    @classmethod
    def load(
        cls,
        *,
        name: str,
        version: int,
        base_path: Path,
        runtime: RuntimeOptions,
        scheduler: BatchScheduler | None = None,
    ) -> LoadedModel:
        """Load `base_path/version`: read and check the signature, open a session, warm up.

        With a `scheduler`, the version gets a batch queue (`batches`) on it.

        Raises:
            NotFoundError: `model.onnx` or `signature.json` is missing.
            DataError: A file is invalid, leaves the base path, or the session does not
                match the signature or fails on a warm-up row.
        """
        import onnxruntime as ort  # type: ignore[import-untyped]

        directory = base_path / str(version)
        signature_file = model_file(base_path, directory, "signature.json")
        try:
            data = json.loads(signature_file.read_bytes())
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise DataError(f"signature.json is not valid JSON: {exc}.") from exc
        signature = parse_signature(data)
        onnx_file = model_file(base_path, directory, "model.onnx")
        # Loaded by path, so ONNX Runtime keeps external data inside the version directory.
        options = ort.SessionOptions()
        options.intra_op_num_threads = runtime.intra_op_threads
        options.inter_op_num_threads = runtime.inter_op_threads
        try:
            session = ort.InferenceSession(
                str(onnx_file), options, providers=providers(runtime.device)
            )
        except _ort_errors() as exc:
            raise DataError(f"model.onnx cannot be loaded by ONNX Runtime: {exc}") from exc
        _check_session(session, signature)
        model = cls(
            name=name, version=version, path=directory, signature=signature, session=session
        )
        model.warm_up()
        if scheduler is not None:
            model.batches = scheduler.queue(model.run, name=name, version=version)
        return model

    def run(self, feed: Feed, outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Run the model on a feed; return the outputs asked for (default: all) by name.

        Raises:
            DataError: ONNX Runtime refused the inputs (they were checked against the
                signature, so what is left is about their values).
        """
        names = list(outputs or self._output_names)
        try:
            values = self._session.run(names, feed)
        except _ort_errors() as exc:
            raise DataError(f"The model could not run on these inputs: {exc}") from exc
        return dict(zip(names, values, strict=True))

    def warm_up(self) -> None:
        """Run one row of missing values, so the first request pays no first-run cost.

        Raises:
            DataError: The model fails on it.
        """
        import numpy as np

        blank = {"float": np.float32("nan"), "string": "", "int64": 0}
        feed = {
            spec.name: np.array(
                [blank[spec.dtype]], dtype=object if spec.dtype == "string" else None
            ).reshape((1,) * len(spec.shape))
            for spec in self.signature.inputs
        }
        self.run(feed)

    @property
    def in_flight(self) -> int:
        """How many requests are running on this version now."""
        return self._in_flight

    @property
    def released(self) -> bool:
        """Whether the session has been released (retired and drained)."""
        return self._session is None

    def enter(self) -> None:
        """Count a request in; the registry calls this under its lock."""
        with self._condition:
            self._in_flight += 1

    def leave(self) -> None:
        """Count a request out; release the session if this was the last on a retired one."""
        with self._condition:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._condition.notify_all()
                if self._retired:
                    self._session = None

    def retire(self) -> None:
        """Take no more requests: release the session now or when the last request leaves."""
        with self._condition:
            self._retired = True
            if self._in_flight == 0:
                self._session = None


def providers(device: str) -> list[str]:
    """Return the ONNX Runtime execution providers for `auto`, `cpu` or `cuda`.

    Raises:
        InvalidParameterError: `cuda` was asked for and ONNX Runtime has no CUDA provider.
    """
    import onnxruntime as ort

    if device not in ("auto", "cpu", "cuda"):
        raise InvalidParameterError(f"--device must be auto, cpu or cuda. Got {device!r} instead.")
    available = ort.get_available_providers()
    has_cuda = "CUDAExecutionProvider" in available
    if device == "cuda" and not has_cuda:
        raise InvalidParameterError(
            "--device cuda needs onnxruntime-gpu (ONNX Runtime here has "
            f"{', '.join(available)}). Use --device auto or cpu, or pip install onnxruntime-gpu."
        )
    use_cuda = has_cuda and device != "cpu"
    return (
        ["CUDAExecutionProvider", "CPUExecutionProvider"] if use_cuda else ["CPUExecutionProvider"]
    )


def _check_session(session: Any, signature: Signature) -> None:
    """Check that the session's inputs and outputs are the signature's."""
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
        raise DataError("model.onnx does not match signature.json: " + "; ".join(problems) + ".")


@functools.cache
def _ort_errors() -> tuple[type[Exception], ...]:
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
