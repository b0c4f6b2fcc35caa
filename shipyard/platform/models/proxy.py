"""Requests to an endpoint's own server, proxied behind the platform's auth:
`/api/projects/{project}/endpoints/{endpoint}/v1/...` and `.../v2/...` go to the endpoint's
`shipyard serve` (TF Serving's and KServe V2's APIs) for principals who may read the project.

The body (up to the serving server's own limit), `Content-Type` and `X-Request-Id` go
through (the server logs the request under the client's id); its answer comes back as it
is. An endpoint that is not running is a 503.
"""

from __future__ import annotations

import http.client
from typing import TYPE_CHECKING, Final

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Route

from shipyard.platform.access import Action
from shipyard.platform.auth.denials import refusal
from shipyard.platform.auth.middleware import principal_of
from shipyard.serving.config import DEFAULT_MAX_BODY_BYTES
from shipyard.serving.inference import REQUEST_ID_HEADER
from shipyard.ui.problems import problem

if TYPE_CHECKING:
    from starlette.requests import Request

    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.models.supervisor import EndpointSupervisor

__all__ = ["proxy_route"]

_PASSED: Final = ("content-type", REQUEST_ID_HEADER.lower())
_TIMEOUT_S: Final = 300.0


def proxy_route(supervisor: EndpointSupervisor, audit: AuditLog) -> Route:
    """The route proxying `.../endpoints/{endpoint}/v1|v2/...` to the endpoint's server."""

    async def proxy(request: Request) -> Response:
        project = str(request.path_params["project"])
        try:
            principal_of(request).require(Action.READ, project)
            endpoint = await run_in_threadpool(
                supervisor.endpoints.get, project, request.path_params["endpoint"]
            )
        except Exception as error:
            refused = await refusal(audit, request, error)
            if refused is None:
                raise
            return refused
        if endpoint.port is None or endpoint.state != "running":
            return problem(503, f"Endpoint {endpoint.name!r} is not serving: {endpoint.message}")
        body = await request.body()
        if len(body) > DEFAULT_MAX_BODY_BYTES:
            return problem(413, f"The request body is over {DEFAULT_MAX_BODY_BYTES} bytes.")
        path = "/" + str(request.path_params["rest"])
        if request.url.query:
            path += "?" + request.url.query
        headers = {k: v for k, v in request.headers.items() if k.lower() in _PASSED}
        return await run_in_threadpool(_forward, endpoint.port, request.method, path, body, headers)

    return Route(
        "/api/projects/{project}/endpoints/{endpoint}/{rest:path}",
        proxy,
        methods=["GET", "POST"],
    )


def _forward(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> Response:
    if not path.startswith(("/v1/", "/v2/")):
        return problem(404, f"Nothing at {path}: the endpoint's server answers /v1/... and /v2/...")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=_TIMEOUT_S)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        answer = connection.getresponse()
        content = answer.read()
    except OSError as error:
        return problem(502, f"The endpoint's server on port {port} did not answer: {error}.")
    finally:
        connection.close()
    kind = answer.getheader("content-type")  # the request id: the middleware sends it back
    return Response(content, status_code=answer.status, headers={"content-type": kind or ""})
