"""A minimal FastAPI + ONNX Runtime server for one `model.onnx`: the peer of `shipyard serve`.

What a competent engineer would write to serve the census model by hand, with no batching,
in one uvicorn worker and without uvicorn's access log (as `shipyard serve` runs by
default; `--access-log` turns it on): TF Serving's row format in,
`POST /v1/models/NAME:predict` with `{"instances": [{feature: value}, ...]}`, every output per
row out, as `shipyard serve` answers. The body is typed with pydantic, as FastAPI apps
usually are; the handler is a plain `def`, which FastAPI runs on its thread pool (Shipyard
runs its handler on the same kind of pool). Inputs are built as Shipyard builds them: float
`[N, 1]` with NaN for a missing number, string `[N, 1]` with "" for a missing string.

It runs in its own venv (`requirements-fastapi.txt`), started by `benchmarks/serving.py`:

    python fastapi_app.py --model DIR/1/model.onnx --port 8000 [--name census] [--threads 1]
                          [--access-log]
"""

from __future__ import annotations

import argparse

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

Value = float | str | None


class PredictRequest(BaseModel):
    """TF Serving's row format."""

    instances: list[dict[str, Value]]


def build_app(model_path: str, *, name: str, threads: int) -> FastAPI:
    """Return the app serving `model_path` as `name`, with `threads` ONNX Runtime threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    inputs = [(item.name, item.type == "tensor(string)") for item in session.get_inputs()]
    outputs = [item.name for item in session.get_outputs()]
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ready": True}

    @app.post(f"/v1/models/{name}:predict")
    def predict(request: PredictRequest) -> dict[str, list[dict[str, object]]]:
        rows = request.instances
        if not rows:
            raise HTTPException(400, "'instances' must be a non-empty list of rows.")
        feed = {}
        for column, is_string in inputs:
            values = [row.get(column) for row in rows]
            if is_string:
                array = np.array([v or "" for v in values], dtype=object)
            else:
                array = np.array(values, dtype=np.float32)  # None becomes NaN
            feed[column] = array.reshape(-1, 1)
        try:
            results = session.run(outputs, feed)
        except Exception as exc:  # ONNX Runtime's errors: a bad value or type
            raise HTTPException(400, f"The model could not run on these inputs: {exc}") from exc
        columns = [result.tolist() for result in results]
        return {
            "predictions": [
                dict(zip(outputs, row, strict=True)) for row in zip(*columns, strict=True)
            ]
        }

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the model.onnx file")
    parser.add_argument("--name", default="census", help="the model's name in the URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra/inter-op")
    parser.add_argument("--access-log", action="store_true", help="log one line per request")
    args = parser.parse_args()
    app = build_app(args.model, name=args.name, threads=args.threads)
    uvicorn.run(app, host=args.host, port=args.port, workers=1, access_log=args.access_log)


if __name__ == "__main__":
    main()
