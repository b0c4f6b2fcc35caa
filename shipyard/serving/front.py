"""The server's ASGI entry: inference requests go straight to `Inference`, the rest to Starlette.

An inference request (`POST /v1/models/NAME[/versions/V | /labels/L]:predict|classify|regress`
or `POST /v2/models/NAME[/versions/V]/infer` on a served model) is matched by one regular
expression, once per path (the route, its metric labels and its parser are remembered),
and answered here: the body is read from the ASGI `receive`, `Inference.respond`
answers it, and two ASGI messages send the JSON (with the request's `X-Request-Id`), with
the request counted and timed as the metrics middleware does. It skips what Starlette
spends on such a request, some 40 of Shipyard's 200 us of CPU: the router trying routes in
turn, `Request` and `Response` objects, three middleware layers and their closures.
Everything else, including an inference path on a model not served, an unknown method or a
mounted app (`root_path`), goes to the Starlette app, which answers exactly as before; the
answers, status codes, errors and metric labels of the inference routes are the same on
both (tests/serving check both).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from typing import TYPE_CHECKING, NamedTuple

from starlette.requests import ClientDisconnect

from shipyard.serving import kserve_api, tf_serving_api
from shipyard.serving.inference import checked_request_id
from shipyard.serving.messages import encode_json, error_status, receive_body

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from starlette.applications import Starlette
    from starlette.routing import BaseRoute
    from starlette.types import Receive, Scope, Send

    from shipyard.serving.inference import Call, Inference
    from shipyard.serving.metrics import Metrics
    from shipyard.serving.tally import Tally

logger = logging.getLogger("shipyard.serving")
# As Starlette matches the routes: `{name}` and `{label}` are `[^/]+` (greedy), `{version:int}`
# is `[0-9]+`; `:{method}` is what follows the last colon of the last path segment.
_V1 = re.compile(
    r"/v1/models/(?P<name>[^/]+)"
    r"(?:/versions/(?P<version>[0-9]+)|/labels/(?P<label>[^/]+))?:(?P<method>[^/]+)"
)
_V2 = re.compile(r"/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[0-9]+))?/infer")
_JSON_HEADERS = (b"content-type", b"application/json")
_REQUEST_ID = b"x-request-id"


class InferenceFront:
    """ASGI app answering inference requests itself and passing the rest to `app`.

    Attributes:
        app: The Starlette app answering every other request.
        state: That app's state (`state.registry` is the model registry).

    Example:
        >>> front = InferenceFront(starlette_app, inference, model_names=["penguins"],
        ...                        metrics=metrics, max_body_bytes=2**25)
        >>> uvicorn.run(front)
    """

    def __init__(
        self,
        app: Starlette,
        inference: Inference,
        *,
        model_names: Collection[str],
        metrics: Metrics | None,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.state = app.state
        self._inference = inference
        self._names = frozenset(model_names)
        self._metrics = metrics
        self._max_body_bytes = max_body_bytes
        self._routes: dict[str, _Route] = {}

    @property
    def routes(self) -> list[BaseRoute]:
        """Every route served: the Starlette app's (the inference routes among them)."""
        return self.app.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an inference request on a served model; pass anything else on."""
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            path = scope["path"]
            route = self._routes.get(path)
            if route is None:
                route = self._route(path)
            if route is not _NOT_INFERENCE:
                await self._answer(scope, receive, send, route)
                return
        await self.app(scope, receive, send)

    def _route(self, path: str) -> _Route:
        """The inference route of `path` (`_NOT_INFERENCE` for any other), remembered for
        the next requests while fewer than `_MAX_ROUTES` paths are."""
        match = _V1.fullmatch(path) or _V2.fullmatch(path)
        route = _NOT_INFERENCE
        if match is not None and match["name"] in self._names:
            name, version = match["name"], match["version"]
            number = None if version is None else int(version)
            if path[2] == "2":
                endpoint = (
                    "/v2/models/{name}/versions/{version}/infer"
                    if version
                    else ("/v2/models/{name}/infer")
                )
                route = _Route(name, number, None, endpoint, kserve_api.prepare_call, {})
            elif match["method"] in tf_serving_api.METHODS:
                label, method = match["label"], match["method"]
                selector = "/versions/{version}" if version else "/labels/{label}" if label else ""
                endpoint = f"/v1/models/{{name}}{selector}:{method}"
                prepare = functools.partial(tf_serving_api.prepare_call, method)
                route = _Route(name, number, label, endpoint, prepare, {})
        if len(self._routes) < _MAX_ROUTES:
            self._routes[path] = route
        return route

    async def _answer(self, scope: Scope, receive: Receive, send: Send, route: _Route) -> None:
        start = time.perf_counter()
        code = 500  # unless an answer is sent
        try:
            try:
                length, sent = _headers(scope)
                request_id = None if sent is None else checked_request_id(sent)
                body = await receive_body(receive, length, self._max_body_bytes)
                answer, request_id = await self._inference.respond(
                    route.name,
                    version=route.version,
                    label=route.label,
                    body_bytes=len(body),
                    prepare=functools.partial(route.prepare, body, request_id),
                )
                code = 200
            except ClientDisconnect:
                raise
            except Exception as exc:
                code, message = error_status(exc, f"POST {scope['path']}")
                if code == 500:
                    logger.error("Exception on POST %s", scope["path"], exc_info=exc)
                answer, request_id = encode_json({"error": message}), None
            length_header = (b"content-length", str(len(answer)).encode())
            headers = (  # the id first, where Starlette puts a response's own headers
                [length_header, _JSON_HEADERS]
                if request_id is None
                else [(_REQUEST_ID, request_id.encode()), length_header, _JSON_HEADERS]
            )
            await send({"type": "http.response.start", "status": code, "headers": headers})
            await send({"type": "http.response.body", "body": answer})
        except ClientDisconnect:
            return  # nobody to answer; counted as a 500, as the middleware counts it
        finally:
            if self._metrics is not None:
                tally = route.tallies.get(code)
                if tally is None:
                    tally = route.tallies[code] = self._metrics.request_series(
                        route.endpoint, route.name, code
                    )
                tally.add(time.perf_counter() - start)


class _Route(NamedTuple):
    """An inference path's model, version or label, metric labels and body parser."""

    name: str
    version: int | None
    label: str | None
    endpoint: str
    prepare: Callable[..., Call]
    tallies: dict[int, Tally]  # its metric series by status code, made on first use


_NOT_INFERENCE = _Route("", None, None, "", kserve_api.prepare_call, {})
"""The route remembered for a path the front passes on (its fields are never read)."""
_MAX_ROUTES = 1024
"""Paths remembered: every served model's few, and some others, but not without bound."""


def _headers(scope: Scope) -> tuple[str | None, str | None]:
    """The request's Content-Length and X-Request-Id, in one pass over its headers."""
    length = request_id = None
    for key, value in scope["headers"]:
        if key == b"content-length":
            length = value.decode("latin-1")
        elif key == _REQUEST_ID:
            request_id = value.decode("latin-1")
    return length, request_id
