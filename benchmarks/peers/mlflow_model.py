"""Save a Shipyard `model.onnx` as an MLflow pyfunc model, for `mlflow models serve`.

Runs in the MLflow venv (`requirements-mlflow.txt`); `benchmarks/serving.py` calls it once:

    python mlflow_model.py --onnx DIR/1/model.onnx --out PATH [--threads 1]

The wrapper feeds ONNX Runtime the raw columns exactly as `shipyard serve` does: float
`[N, 1]` (NaN for a missing number) and string `[N, 1]` ("" for a missing string), and
answers every output per row, as Shipyard does. The input signature (numbers as double,
the rest as string) is what MLflow checks each request against, as it does for any model
logged with a signature. A pyfunc wrapper rather than the `mlflow.onnx` flavour: that
flavour feeds each DataFrame column as a rank-1 array (`df[name].values`), which this graph
(inputs of shape `[N, 1]`) refuses.
"""

from __future__ import annotations

import argparse
from typing import Any

import mlflow.pyfunc
import numpy as np
import onnx
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema


class OnnxRows(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    """Raw rows (a DataFrame) in, ONNX Runtime outputs per row out."""

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def load_context(self, context: Any) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = self.threads
        self.session = ort.InferenceSession(
            context.artifacts["model"], options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [(i.name, i.type == "tensor(string)") for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        feed = {}
        for name, is_string in self.inputs:
            column = model_input[name]
            if is_string:
                values = column.fillna("").to_numpy(dtype=object)
            else:
                values = column.to_numpy(dtype=np.float32, na_value=np.nan)
            feed[name] = values.reshape(-1, 1)
        results = self.session.run(self.outputs, feed)
        return pd.DataFrame(
            {n: list(r) if r.ndim > 1 else r for n, r in zip(self.outputs, results, strict=True)}
        )


def input_schema(onnx_path: str) -> Schema:
    """The graph's inputs as MLflow columns: strings as string, numbers as double."""
    graph = onnx.load(onnx_path, load_external_data=False).graph
    string = onnx.TensorProto.STRING
    return Schema(
        [
            ColSpec("string" if i.type.tensor_type.elem_type == string else "double", i.name)
            for i in graph.input
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra/inter-op")
    args = parser.parse_args()
    mlflow.pyfunc.save_model(
        args.out,
        python_model=OnnxRows(args.threads),
        artifacts={"model": args.onnx},
        signature=ModelSignature(inputs=input_schema(args.onnx)),
    )


if __name__ == "__main__":
    main()
