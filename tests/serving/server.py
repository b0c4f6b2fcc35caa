"""A real server on 127.0.0.1 for tests: uvicorn on a background thread, and a tiny client."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import uvicorn

from shipyard.io.ports import free_port
from shipyard.serving.app import build_app
from shipyard.serving.config import ModelConfig, RuntimeOptions, ServerOptions

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType

SINGLE_THREADED = RuntimeOptions(intra_op_threads=1, inter_op_threads=1)


class Client:
    """Sends one request per connection and decodes the JSON answer."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Return the status and the decoded JSON body (or the text when not JSON)."""
        status, content_type, text = self.fetch(method, path, body, raw=raw, headers=headers)
        assert content_type.startswith("application/json"), text
        return status, json.loads(text)

    def fetch(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, bytes]:
        """Return the status, the content type and the body."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=data, headers=headers or {})
            response = connection.getresponse()
            text = response.read()
        finally:
            connection.close()
        return response.status, response.getheader("content-type", ""), text

    def get(self, path: str) -> tuple[int, Any]:
        """GET `path`."""
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        """POST `body` as JSON to `path`."""
        return self.request("POST", path, body)


class RunningServer(Client):
    """`with RunningServer(models) as server:` serves `models` until the block ends."""

    def __init__(
        self,
        models: Iterable[ModelConfig],
        *,
        poll_s: float = 0.0,
        max_body_bytes: int = 1 << 20,
        **options: Any,
    ) -> None:
        """Serve `models` with `ServerOptions(**options)`, single-threaded sessions."""
        super().__init__(free_port())
        settings = ServerOptions(
            poll_s=poll_s, max_body_bytes=max_body_bytes, runtime=SINGLE_THREADED, **options
        )
        self.app = build_app(list(models), settings)
        self.registry = self.app.state.registry
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            assert self._thread.is_alive(), "the server failed to start"
            assert time.monotonic() < deadline, "the server did not start in 60 s"
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(30)
