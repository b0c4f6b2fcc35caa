"""One served version of a model: its signature, its ONNX Runtime session, its requests.

A `LoadedModel` counts the requests running on it. Once the registry has retired it (a
newer version took its place), its session is released when the last of those requests
leaves, so a version switch never cuts a request short.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.exported_model import (
    ONNX_FILENAME,
    SIGNATURE_FILENAME,
    check_session,
    load_signature,
    ort_errors,
)
from shipyard.errors import DataError, InvalidParameterError
from shipyard.serving.feed import FeedPlan
from shipyard.serving.repository import model_file

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import numpy as np

    from shipyard.artifacts.exported_model import Signature
    from shipyard.serving.batching import BatchQueue, BatchScheduler
    from shipyard.serving.config import RuntimeOptions
    from shipyard.serving.feed import Feed


_COST_ROWS = 64
_COST_RUNS = 5


@dataclass(frozen=True)
class RunCost:
    """What one `session.run` costs, measured when the version is loaded.

    Attributes:
        fixed_s: Seconds of a one-row run.
        per_row_s: Seconds each further row adds.
    """

    fixed_s: float = 0.0
    per_row_s: float = 0.0

    def estimate_s(self, rows: int) -> float:
        """The seconds a run of `rows` rows takes."""
        return self.fixed_s + self.per_row_s * max(0, rows - 1)


class LoadedModel:
    """A version ready to serve.

    Attributes:
        name: The model's served name.
        version: The version number.
        path: The version directory.
        signature: Inputs, outputs, task and label vocabulary.
        feed_plan: How requests' values become its inputs, resolved once.
        batches: The queue that batches its requests, when the server batches.
        cost: What a run costs, measured by `warm_up` (zero until then).
    """

    def __init__(
        self, *, name: str, version: int, path: Path, signature: Signature, session: Any
    ) -> None:
        self.name = name
        self.version = version
        self.path = path
        self.signature = signature
        self.feed_plan = FeedPlan(signature)
        self._session: Any = session
        self._output_names = [spec.name for spec in signature.outputs]
        self._lock = threading.Lock()  # guards the count and the retirement
        self._in_flight = 0
        self._retired = False
        self.batches: BatchQueue | None = None
        self.cost = RunCost()

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
        signature = load_signature(model_file(base_path, directory, SIGNATURE_FILENAME))
        onnx_file = model_file(base_path, directory, ONNX_FILENAME)
        # Loaded by path, so ONNX Runtime keeps external data inside the version directory.
        options = ort.SessionOptions()
        options.intra_op_num_threads = runtime.intra_op_threads
        options.inter_op_num_threads = runtime.inter_op_threads
        try:
            session = ort.InferenceSession(
                str(onnx_file), options, providers=providers(runtime.device)
            )
        except ort_errors() as exc:
            raise DataError(f"ONNX Runtime cannot load it: {exc}", path=str(onnx_file)) from exc
        check_session(session, signature, where=str(onnx_file))
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
        except ort_errors() as exc:
            raise DataError(f"The model could not run on these inputs: {exc}") from exc
        return dict(zip(names, values))  # noqa: B905 (one value per name asked for)

    def warm_up(self) -> None:
        """Run rows of missing values, so the first request pays no first-run cost.

        This also measures `cost`: the fastest of a few runs of 1 and of 64 rows, the
        figure least inflated by other work on the machine.

        Raises:
            DataError: The model fails on them.
        """
        import numpy as np

        blank = {"float": np.float32("nan"), "string": "", "int64": 0}
        row = {
            spec.name: np.array(
                [blank[spec.dtype]], dtype=object if spec.dtype == "string" else None
            ).reshape((1,) * len(spec.shape))
            for spec in self.signature.inputs
        }
        self.run(row)
        rows = {name: np.repeat(value, _COST_ROWS, axis=0) for name, value in row.items()}
        one, many = self._fastest_run_s(row), self._fastest_run_s(rows)
        self.cost = RunCost(fixed_s=one, per_row_s=max(0.0, many - one) / (_COST_ROWS - 1))

    def _fastest_run_s(self, feed: Feed) -> float:
        timings = []
        for _ in range(_COST_RUNS):
            started = time.perf_counter()
            self.run(feed)
            timings.append(time.perf_counter() - started)
        return min(timings)

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
        with self._lock:
            self._in_flight += 1

    def leave(self) -> None:
        """Count a request out; release the session if this was the last on a retired one."""
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0 and self._retired:
                self._session = None

    def retire(self) -> None:
        """Take no more requests: release the session now or when the last request leaves."""
        with self._lock:
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
