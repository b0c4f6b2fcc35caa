"""A stand-in for `shipyard serve` on 127.0.0.1: what it answers to `status` and `/metrics`
for version 1 of penguins, 40 answered requests and 2 errors so far (or, counting, 40 more
answered at each read of `/metrics`, as live traffic would)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

_METRICS = """# TYPE shipyard_model_version_requests counter
shipyard_model_version_requests_total{{model="penguins",version="1"}} {answered}
# TYPE shipyard_model_version_errors counter
shipyard_model_version_errors_total{{model="penguins",version="1"}} 2.0
# TYPE shipyard_model_version_request_duration_seconds histogram
shipyard_model_version_request_duration_seconds_sum{{model="penguins",version="1"}} 0.5
shipyard_model_version_request_duration_seconds_count{{model="penguins",version="1"}} 40.0
# TYPE shipyard_model_version_loaded gauge
shipyard_model_version_loaded{{model="penguins",version="1"}} 1.0
"""


def stand_in_server(*, counting: bool = False) -> Starlette:
    """The stand-in app; `counting` makes the request count grow by 40 at each read."""
    reads = itertools.count(1)

    async def status(request: Request) -> Response:
        version = {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK"}}
        return JSONResponse({"model_version_status": [version]})

    async def metrics(request: Request) -> Response:
        answered = 40 * next(reads) if counting else 40
        return PlainTextResponse(_METRICS.format(answered=float(answered)))

    return Starlette(routes=[Route("/v1/models/{name}", status), Route("/metrics", metrics)])
