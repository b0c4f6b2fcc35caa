"""The floor: a Starlette app that reads each request and answers a fixed body.

It runs in Shipyard's venv with Shipyard's uvicorn and Starlette, started the way
`shipyard serve` starts uvicorn by default (one worker, no access log), so its throughput is
the most any server on that HTTP stack can reach on this machine: no JSON, no model.

    python floor_app.py --port 8000 [--name census] [--answer-bytes 100]
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.requests import Request


def build_app(*, name: str, answer_bytes: int) -> Starlette:
    """Return the app: `POST /v1/models/NAME:predict` answers `answer_bytes` of JSON."""
    answer = b'{"predictions":"' + b"x" * max(0, answer_bytes - 18) + b'"}'

    async def predict(request: Request) -> Response:
        await request.body()
        return Response(answer, media_type="application/json")

    async def ready(request: Request) -> Response:
        return JSONResponse({"ready": True})

    return Starlette(
        routes=[
            Route(f"/v1/models/{name}:predict", predict, methods=["POST"]),
            Route("/v2/health/ready", ready),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="census")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--answer-bytes", type=int, default=100)
    args = parser.parse_args()
    app = build_app(name=args.name, answer_bytes=args.answer_bytes)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
