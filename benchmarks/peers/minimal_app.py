"""The fastest minimal app serving one `model.onnx`: the peer `shipyard serve` must keep up with.

What an engineer who knows the stack writes by hand to serve the census model as fast as one
process can, and nothing more: a Starlette `async def` handler that calls ONNX Runtime on
the event loop (no thread-pool hop), orjson for the body and the answer, one ONNX Runtime
thread, uvicorn with uvloop and httptools, one worker, no access log, no middleware, no
metrics. TF Serving's row format in (`POST /v1/models/NAME:predict` with
`{"instances": [{feature: value}, ...]}`), every output per row out, as `shipyard serve`
answers; inputs built as Shipyard builds them (float `[N, 1]` with NaN for a missing number,
string `[N, 1]` with "" for a missing string). It checks only what it must not crash on.

It runs in Shipyard's own venv, so its ONNX Runtime, uvicorn, uvloop and httptools are
Shipyard's, version for version (`benchmarks/serving.py` starts it):

    python minimal_app.py --model DIR/1/model.onnx --port 8000 [--name census] [--threads 1]
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.requests import Request


def build_app(model_path: str, *, name: str, threads: int) -> Starlette:
    """Return the app serving `model_path` as `name`, with `threads` ONNX Runtime threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    inputs = [(item.name, item.type == "tensor(string)") for item in session.get_inputs()]
    outputs = [item.name for item in session.get_outputs()]

    def bad_request(message: str) -> Response:
        return Response(orjson.dumps({"error": message}), 400, media_type="application/json")

    async def predict(request: Request) -> Response:
        try:
            rows = orjson.loads(await request.body())["instances"]
            feed = {}
            for column, is_string in inputs:
                values = [row.get(column) for row in rows]
                if is_string:
                    array = np.array([v or "" for v in values], dtype=object)
                else:
                    array = np.array(values, dtype=np.float32)  # None becomes NaN
                feed[column] = array.reshape(-1, 1)
            results = session.run(outputs, feed)
        except Exception as exc:  # malformed JSON or rows, or ONNX Runtime refused the values
            return bad_request(f"{type(exc).__name__}: {exc}")
        columns = [result.tolist() for result in results]
        answer = [dict(zip(outputs, row, strict=True)) for row in zip(*columns, strict=True)]
        return Response(orjson.dumps({"predictions": answer}), media_type="application/json")

    async def ready(request: Request) -> Response:
        return Response(b'{"ready":true}', media_type="application/json")

    return Starlette(
        routes=[
            Route(f"/v1/models/{name}:predict", predict, methods=["POST"]),
            Route("/health", ready),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the model.onnx file")
    parser.add_argument("--name", default="census", help="the model's name in the URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra/inter-op")
    args = parser.parse_args()
    app = build_app(args.model, name=args.name, threads=args.threads)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        access_log=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
