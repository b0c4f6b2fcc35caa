"""Request bodies in and answers out: orjson where it reads and writes what json would."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request

from shipyard.errors import DataError
from shipyard.serving.messages import decode_json, json_response, parse_object, read_body


@pytest.mark.parametrize("body", [b"", b" \r\n\t "])
def test_an_empty_or_blank_body_is_named_empty(body: bytes) -> None:
    with pytest.raises(DataError, match="The request body is empty"):
        parse_object(body, keys={"instances": True})
    assert parse_object(b' {"instances": [1]} ', keys={"instances": True}) == {"instances": [1]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"x": [1, 2.5, "s", null, true]}', {"x": [1, 2.5, "s", None, True]}),
        (b'{"big": 123456789012345678901234567890}', {"big": 123456789012345678901234567890}),
        (b'{"x": [1e400]}', {"x": [float("inf")]}),
        ('{"x": "\u00e9"}'.encode("utf-16"), {"x": "\u00e9"}),
        (b'{"x": "\\ud800"}', {"x": "\ud800"}),
    ],
)
def test_bodies_mean_what_the_json_module_reads(body: bytes, expected: Any) -> None:
    assert decode_json(body) == expected  # 2**97 as a float would not be equal


def test_nan_and_infinity_literals_are_read() -> None:
    value = decode_json(b'{"x": [NaN, Infinity, -Infinity]}')["x"]
    assert value[0] != value[0] and value[1:] == [float("inf"), float("-inf")]


@pytest.mark.parametrize("body", [b"{not json", b'{"x": 1', b"\xff\xfe\x00"])
def test_invalid_json_is_a_data_error_naming_the_problem(body: bytes) -> None:
    with pytest.raises(DataError, match="The request body is not valid JSON: "):
        decode_json(body)


def test_answers_write_nan_and_infinity_as_tf_serving_does() -> None:
    body = bytes(json_response({"p": [float("nan"), 0.5, float("-inf")], "n": None}).body)
    assert body == b'{"p":[NaN,0.5,-Infinity],"n":null}'


def test_answers_are_compact_utf8_json() -> None:
    content = {"s": "\u00e9\u4e2d", "f": [0.1, 1e-05, 3.0], "i": 2**63 - 1, "t": (1, 2)}
    response = json_response(content, 201)
    assert response.status_code == 201
    assert response.media_type == "application/json"
    assert b" " not in bytes(response.body)
    assert json.loads(response.body) == content | {"t": [1, 2]}
    assert "\u00e9\u4e2d".encode() in bytes(response.body)


def test_integers_past_64_bits_are_written_exactly() -> None:
    assert bytes(json_response({"i": 2**70}).body) == b'{"i":1180591620717411303424}'


def _read(messages: list[dict[str, Any]], limit: int, headers: list[Any] | None = None) -> bytes:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    scope = {"type": "http", "method": "POST", "headers": headers or []}
    return asyncio.run(read_body(Request(scope, receive), limit))


def test_a_body_in_several_messages_is_joined() -> None:
    parts = [
        {"type": "http.request", "body": b'{"a":', "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"1}", "more_body": False},
    ]
    assert _read(parts, 100) == b'{"a":1}'
    assert _read([{"type": "http.request"}], 100) == b""


def test_a_streamed_body_over_the_limit_is_refused_with_413() -> None:
    parts = [{"type": "http.request", "body": b"x" * 60, "more_body": True}] * 2
    with pytest.raises(HTTPException) as raised:
        _read(parts, 100)
    assert raised.value.status_code == 413
    assert "the limit is 100 bytes" in raised.value.detail


def test_a_client_gone_mid_body_is_a_disconnect() -> None:
    parts = [
        {"type": "http.request", "body": b"{", "more_body": True},
        {"type": "http.disconnect"},
    ]
    with pytest.raises(ClientDisconnect):
        _read(parts, 100)
