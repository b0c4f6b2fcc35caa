"""JSON over HTTP for both APIs: request bodies in, responses and errors out.

Errors answer `{"error": "message"}`, as TensorFlow Serving and KServe do: 400 for bad
input, 404 for an unknown model, version, label or route, 413 for a body over the limit,
503 when a batch queue is full (load shedding, TF Serving's UNAVAILABLE). A 500 means a bug
in Shipyard, never a bad request.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from shipyard.errors import DataError, NotFoundError, QueueFullError, ShipyardError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.requests import Request
    from starlette.types import Receive

logger = logging.getLogger("shipyard.serving")
_DIGITS = bytes(ord("0") if chr(i).isascii() and chr(i).isdigit() else ord(".") for i in range(256))
"""A `bytes.translate` table: ASCII digits to `0`, every other byte to `.`."""
_LONG_NUMBER = b"0" * 20
"""20 digits in a row: maybe an integer past 64 bits, which orjson would read as a float.
(Translating and searching is some 30 times faster than a regular expression.)"""


async def read_body(request: Request, max_body_bytes: int) -> bytes:
    """Read the request body, refusing it as soon as it is over `max_body_bytes`.

    Raises:
        HTTPException: 413 when the declared or streamed size is over the limit; 400 for
            an invalid Content-Length.
    """
    return await receive_body(
        request.receive, request.headers.get("content-length"), max_body_bytes
    )


async def receive_body(receive: Receive, declared: str | None, max_body_bytes: int) -> bytes:
    """Read an ASGI request body of `declared` bytes (its Content-Length), as `read_body`.

    Raises:
        HTTPException: 413 when the declared or streamed size is over the limit; 400 for
            an invalid Content-Length.
        ClientDisconnect: The client went away before sending the whole body.
    """
    if declared is not None:
        if not declared.isdigit():
            raise HTTPException(400, f"Content-Length must be a byte count, got {declared!r}.")
        if int(declared) > max_body_bytes:
            raise HTTPException(413, _too_large(f"{declared} bytes", max_body_bytes))
    chunks: list[bytes] = []
    size = 0
    while True:  # Starlette's `Request.stream`, without its async generator per request
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > max_body_bytes:
            raise HTTPException(413, _too_large(f"over {max_body_bytes} bytes", max_body_bytes))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_object(
    body: bytes, *, keys: Mapping[str, bool], exact_integers: bool = True
) -> dict[str, Any]:
    """Decode a JSON object and check its keys.

    Args:
        body: The request body.
        keys: The keys the object may have, each mapped to whether it is required.
        exact_integers: Read integers past 64 bits as integers (see `decode_json`).

    Raises:
        DataError: Empty or malformed JSON, not an object, an unknown or missing key.
    """
    if not body or body.isspace():  # (`strip` would copy the whole body to check it)
        raise DataError("The request body is empty: send a JSON object.")
    value = decode_json(body, exact_integers=exact_integers)
    if not isinstance(value, dict):
        raise DataError(f"The request body must be a JSON object, got {type(value).__name__}.")
    if value.keys() <= keys.keys():
        for key, needed in keys.items():
            if needed and key not in value:
                break
        else:
            return value
    unknown = sorted(set(value) - set(keys))
    missing = sorted(k for k, required in keys.items() if required and k not in value)
    if unknown or missing:
        parts = [f"unknown key {k!r}" for k in unknown] + [f"missing key {k!r}" for k in missing]
        raise DataError(
            f"The request has {', '.join(parts)}; it takes {', '.join(map(repr, keys))}."
        )
    return value


def decode_json(body: bytes, *, exact_integers: bool = True) -> Any:
    """Decode a JSON body with orjson, or with the standard library where they differ.

    orjson is several times faster; the standard library reads what orjson refuses or reads
    otherwise, so that every body means what it did: `NaN` and `Infinity`, UTF-16 and
    UTF-32, and integers past 64 bits (orjson makes them floats; the feed then reports
    them out of range, naming the value). Looking for those integers costs a pass over the
    body (2 us for a 32-row request); `exact_integers=False` skips it where they cannot
    mean anything else, for a model without integer inputs (its floats are float32, which
    the float orjson reads gives exactly as the integer would).

    Raises:
        DataError: The body is not valid JSON.
    """
    if not exact_integers or _LONG_NUMBER not in body.translate(_DIGITS):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # the standard library accepts more, or says what is wrong
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise DataError(f"The request body is not valid JSON: {exc}.") from exc


def json_response(content: Any, status_code: int = 200) -> Response:
    """Serialize `content` (see `encode_json`) into a JSON response."""
    return Response(encode_json(content), status_code, media_type="application/json")


def encode_json(content: Any) -> bytes:
    """Serialize `content` compactly; NaN and Infinity are written as TF Serving does.

    orjson writes it, unless it writes `null` somewhere: that may be a NaN or Infinity
    (orjson writes those as null), so the standard library writes the content again.
    """
    try:
        body = orjson.dumps(content)
    except TypeError:  # a type orjson does not know, or an integer past 64 bits
        body = b"null"
    # `find`, not `in`: `bytes.__contains__` first tries its argument as an integer, so
    # `b"null" in body` raises and clears a TypeError inside CPython at every answer.
    if body.find(b"null") != -1:
        body = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return body


def error_response(status_code: int, message: str) -> Response:
    """The error body both APIs use: `{"error": message}`."""
    return json_response({"error": message}, status_code)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Render Starlette's HTTP errors (unknown route, wrong method, 413) as JSON."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No API at {request.method} {request.url.path}."
    return error_response(exc.status_code, detail)


async def on_shipyard_error(request: Request, exc: Exception) -> Response:
    """Render a Shipyard error: 404 for what is not found, 400 for bad input, 503 when full."""
    assert isinstance(exc, ShipyardError)
    return error_response(*error_status(exc, f"{request.method} {request.url.path}"))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """Answer 500 for a bug; the traceback goes to the server's log."""
    return error_response(*error_status(exc, f"{request.method} {request.url.path}"))


def error_status(exc: Exception, where: str) -> tuple[int, str]:
    """The status code and message that answer `exc`, raised while answering `where`.

    An HTTP error keeps its own; a Shipyard error is 404 for what is not found, 503 for a
    full queue, 400 for bad input (a `ValueError`); any other error is a 500, a bug.
    """
    if isinstance(exc, HTTPException):
        return exc.status_code, exc.detail
    if isinstance(exc, NotFoundError):
        return 404, str(exc)
    if isinstance(exc, QueueFullError):
        return 503, str(exc)
    if isinstance(exc, ShipyardError) and isinstance(exc, ValueError):
        return 400, str(exc)
    if isinstance(exc, ShipyardError):
        logger.error("Unexpected %s on %s", type(exc).__name__, where)
        return 500, f"Internal error: {exc}"
    return 500, f"Internal error ({type(exc).__name__}); see the server log."


def _too_large(size: str, limit: int) -> str:
    return (
        f"The request body has {size}; the limit is {limit} bytes. Send fewer rows per "
        f"request, or raise --max-body-bytes."
    )
