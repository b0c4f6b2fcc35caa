"""The ASGI front answers inference requests exactly as the Starlette routes behind it do."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shipyard.serving.front import InferenceFront
from tests.serving.conftest import penguin_rows

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from tests.serving.server import RunningServer

Reply = tuple[int, list[tuple[bytes, bytes]], bytes]


def _call(app: ASGIApp, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> Reply:
    """POST `body` to `path` through `app` in this process; the status, headers and body."""
    sent: list[dict[str, Any]] = []
    chunks = [body[: len(body) // 2], body[len(body) // 2 :]]  # two messages, as a stream

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start, *bodies = sent
    return start["status"], start["headers"], b"".join(m.get("body", b"") for m in bodies)


def _requests(server: RunningServer) -> dict[tuple[str, str, str], float]:
    text = server.fetch("GET", "/metrics")[2].decode()
    return {
        (s.labels["endpoint"], s.labels["model"], s.labels["code"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "shipyard_requests_total" and s.labels["endpoint"] != "/metrics"
    }


def _body(value: Any) -> bytes:
    return json.dumps(value).encode()


ROW = penguin_rows()[0]  # complete: no missing value


def _tensor(name: str, value: object) -> dict[str, Any]:
    datatype = "BYTES" if isinstance(value, str) else "FP32"
    return {"name": name, "shape": [1], "datatype": datatype, "data": [value]}


MASS_ROW = {k: v for k, v in ROW.items() if k != "body_mass_g"} | {"species": "Adelie"}
CASES = {  # path, body, status
    "predict": ("/v1/models/penguins:predict", _body({"instances": [ROW] * 3}), 200),
    "columns": (
        "/v1/models/penguins:predict",
        _body({"inputs": {k: [v] for k, v in ROW.items()}}),
        200,
    ),
    "classify": ("/v1/models/penguins/versions/3:classify", _body({"examples": [ROW]}), 200),
    "label": ("/v1/models/mixed/labels/stable:regress", _body({"examples": [MASS_ROW]}), 200),
    "bad value": ("/v1/models/penguins:predict", _body({"instances": [{"year": "x"}]}), 400),
    "bad json": ("/v1/models/penguins:predict", b'{"instances": [', 400),
    "wrong method": ("/v1/models/mass:classify", _body({"examples": [ROW]}), 400),
    "no version": ("/v1/models/penguins/versions/7:predict", _body({"instances": [ROW]}), 404),
    "no label": ("/v1/models/mixed/labels/gone:predict", _body({"instances": [ROW]}), 404),
    "too large": ("/v1/models/penguins:predict", _body({"instances": [ROW] * 600}), 413),
    "v2": (
        "/v2/models/penguins/versions/3/infer",
        _body({"id": "a", "inputs": [_tensor(k, v) for k, v in ROW.items()]}),
        200,
    ),
    "v2 bad": ("/v2/models/penguins/infer", _body({"inputs": 3}), 400),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_front_answers_and_counts_as_the_starlette_routes_do(
    api_server: RunningServer, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, body, status = CASES[case]
    front = api_server.app
    assert isinstance(front, InferenceFront)
    routes = front.app
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        (b"x-request-id", b"front-1"),  # the same id on both: their answers are equal
    ]
    before = _requests(api_server)
    with monkeypatch.context() as patch:  # the front answers alone

        async def unreachable(*args: object) -> None:
            raise AssertionError("the front passed an inference request on")

        patch.setattr(front, "app", unreachable)
        fast = _call(front, path, body, headers)
    middle = _requests(api_server)
    routed = _call(routes, path, body, headers)
    after = _requests(api_server)
    assert fast[0] == status, fast
    assert fast == routed
    assert ((b"x-request-id", b"front-1") in fast[1]) == (status == 200)
    grew = {k: v - before.get(k, 0) for k, v in middle.items() if v != before.get(k, 0)}
    assert grew == {k: v - middle.get(k, 0) for k, v in after.items() if v != middle.get(k, 0)}
    assert list(grew.values()) == [1]
    assert next(iter(grew))[2] == str(status)


def test_a_bad_content_length_is_a_400_on_the_front(api_server: RunningServer) -> None:
    body = _body({"instances": [ROW]})
    reply = _call(api_server.app, "/v1/models/penguins:predict", body, [(b"content-length", b"x")])
    assert reply[0] == 400 and b"Content-Length must be a byte count" in reply[2]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/models/unknown:predict", 404),  # not served: the router's answer and labels
        ("/v1/models/penguins:explain", 404),  # not a method
        ("/v1/models/penguins/versions/x:predict", 404),  # not a version
        ("/v1/models/penguins", 405),  # GET only
    ],
)
def test_what_the_front_does_not_answer_goes_to_starlette(
    api_server: RunningServer, path: str, status: int
) -> None:
    body = _body({"instances": [ROW]})
    headers = [(b"content-length", str(len(body)).encode())]
    reply = _call(api_server.app, path, body, headers)
    assert reply == _call(api_server.app.app, path, body, headers)  # type: ignore[attr-defined]
    assert reply[0] == status and json.loads(reply[2])["error"]
