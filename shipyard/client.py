"""A Python client for `shipyard serve`: the TensorFlow Serving REST API and KServe V2.

Standard library only (`http.client` and `json`), so importing it costs nothing and it runs
wherever Python does. Each thread keeps one keep-alive connection to the server, so a
`Client` may be shared between threads. Every failure raises `ServingError`: the server's
answer (HTTP status and its `error` message) or why there was none (refused, timed out).

Every inference answer names its request id (the server's `X-Request-Id` header, the id its
request log writes): `last_request_id` is this thread's latest, and `feedback` sends the
labels found later for those ids (see docs/monitoring.md, "Feedback and decay").

Example:
    >>> from shipyard.client import Client
    >>> with Client("http://127.0.0.1:8501") as client:
    ...     client.predict("penguins", [{"island": "Biscoe", "sex": "male"}])
    [{'class_ids': 1, 'probabilities': [...], 'class_labels': 'Gentoo'}]
    >>> labels = [{"request_id": client.last_request_id, "label": "Adelie"}]  # known later
    >>> client.feedback("penguins", labels)
    {'stored': 1, 'file': '...'}
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from shipyard._version import __version__
from shipyard.errors import InvalidParameterError, ServingError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

__all__ = ["DEFAULT_URL", "Client", "ServingError"]

DEFAULT_URL = "http://127.0.0.1:8501"
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
"""What a keep-alive connection the server has closed meanwhile raises on reuse."""
_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "User-Agent": f"shipyard-client/{__version__}",
}
_REQUEST_ID = "X-Request-Id"


class Client:
    """Send requests to one server, reusing a keep-alive connection per thread.

    Args:
        url: The server's base URL: `http://` or `https://`, host, port and an optional
            path prefix (for a server behind a proxy).
        timeout_s: How long to wait for the connection and for each answer.

    Raises:
        InvalidParameterError: The URL is not an http(s) URL with a host.

    Example:
        >>> client = Client("http://127.0.0.1:8501", timeout_s=10)
        >>> client.regress("mass", [{"island": "Dream", "sex": "female"}], version=2)
        [3687.5]
    """

    def __init__(self, url: str = DEFAULT_URL, *, timeout_s: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParameterError(
                f"The 'url' parameter of Client must be an http:// or https:// URL such as "
                f"{DEFAULT_URL}. Got {url!r} instead."
            )
        if timeout_s <= 0:
            raise InvalidParameterError(
                f"The 'timeout_s' parameter of Client must be a number > 0. "
                f"Got {timeout_s!r} instead."
            )
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []

    @property
    def last_request_id(self) -> str | None:
        """The request id (`X-Request-Id`) of this thread's latest inference answer; None
        after an error answer, or before any."""
        return getattr(self._local, "request_id", None)

    # --- the server ---------------------------------------------------------------------

    def ready(self) -> bool:
        """Return whether the server answers and every model has a version available.

        Unlike the other methods, it returns False instead of raising while the server
        cannot be reached, so a loop can wait on it.
        """
        try:
            self._call("GET", "/v2/health/ready")
        except ServingError as error:
            if error.status in (None, 400, 503):
                return False
            raise
        return True

    # --- TensorFlow Serving REST API ----------------------------------------------------

    def status(
        self, model: str, *, version: int | None = None, label: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the state of every version of `model` (newest first), or of one.

        Returns:
            `[{"version": "3", "state": "AVAILABLE", "status": {"error_code": "OK",
            "error_message": ""}}, ...]`: the `model_version_status` of the answer.

        Raises:
            ServingError: 404 for an unknown model, version or label.
        """
        answer = self._call("GET", _v1_path(model, version, label))
        return list(answer["model_version_status"])

    def metadata(
        self, model: str, *, version: int | None = None, label: str | None = None
    ) -> dict[str, Any]:
        """Return the model's metadata: `model_spec` (with the version that answered) and
        `metadata.signature_def`, the inputs and outputs as TensorFlow Serving writes them.

        Raises:
            ServingError: 404 for an unknown model, version or label.
        """
        return dict(self._call("GET", _v1_path(model, version, label) + "/metadata"))

    def predict(
        self,
        model: str,
        instances: Sequence[Any] | None = None,
        *,
        columns: Mapping[str, Sequence[Any]] | None = None,
        version: int | None = None,
        label: str | None = None,
        request_id: str | None = None,
    ) -> Any:
        """Run the model on rows (`instances`) or on columns (`columns`): exactly one.

        Args:
            model: The served model's name.
            instances: Rows, `[{"island": "Biscoe", "bill_length_mm": 48.6}, ...]`; None
                or a left-out feature is a missing value.
            columns: Columns, `{"island": ["Biscoe", ...], ...}`, one value per row.
            version: A version number; default: the newest available.
            label: A version label, such as `stable` (not with `version`).
            request_id: The request's id (`X-Request-Id`, at most 128 visible ASCII
                characters); default: one the server draws. Either way, `last_request_id`.

        Returns:
            For rows, `predictions`: one `{output: value}` per row, or one bare value per
            row for a model with a single output. For columns, `outputs`: `{output:
            [value per row]}`, or the bare list for a single output.

        Raises:
            InvalidParameterError: Both or neither of `instances` and `columns`.
            ServingError: 400 for bad inputs (the message names the row and feature).
        """
        if (instances is None) == (columns is None):
            raise InvalidParameterError(
                "Client.predict takes rows (instances=[...]) or columns (columns={...}): "
                "exactly one of them."
            )
        path = _v1_path(model, version, label) + ":predict"
        if instances is not None:
            body: dict[str, Any] = {"instances": list(instances)}
            key = "predictions"
        else:
            assert columns is not None
            body = {"inputs": {name: list(values) for name, values in columns.items()}}
            key = "outputs"
        return self._call("POST", path, body, request_id=request_id, inference=True)[key]

    def classify(
        self,
        model: str,
        examples: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
        version: int | None = None,
        label: str | None = None,
        request_id: str | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Score every class for each example: `[[(label, score), ...], ...]`.

        Args:
            model: The served model's name.
            examples: Rows of features.
            context: Features shared by every example (none may repeat in an example).
            version: A version number; default: the newest available.
            label: A version label (not with `version`).
            request_id: The request's id, as for `predict`.

        Raises:
            ServingError: 400 for bad examples, or for a regression model.
        """
        results = self._examples(
            "classify",
            model,
            examples,
            context=context,
            version=version,
            label=label,
            request_id=request_id,
        )
        return [[(str(name), float(score)) for name, score in row] for row in results]

    def regress(
        self,
        model: str,
        examples: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
        version: int | None = None,
        label: str | None = None,
        request_id: str | None = None,
    ) -> list[float]:
        """Predict one number per example with a regression model.

        Args:
            model: The served model's name.
            examples: Rows of features.
            context: Features shared by every example (none may repeat in an example).
            version: A version number; default: the newest available.
            label: A version label (not with `version`).
            request_id: The request's id, as for `predict`.

        Raises:
            ServingError: 400 for bad examples, or for a classification model.
        """
        results = self._examples(
            "regress",
            model,
            examples,
            context=context,
            version=version,
            label=label,
            request_id=request_id,
        )
        return [float(value) for value in results]

    # --- KServe V2 ----------------------------------------------------------------------

    def infer(
        self,
        model: str,
        inputs: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
        *,
        version: int | None = None,
        outputs: Sequence[str] | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Run the model with the KServe V2 (Open Inference Protocol) `infer` request.

        Args:
            model: The served model's name.
            inputs: `{input: [value per row]}`, sent as V2 tensors of shape `[N]` (datatype
                BYTES for strings, INT64 for integers, else FP32); or V2 tensors as they
                are, `[{"name", "shape", "datatype", "data"}, ...]`.
            version: A version number; default: the newest available.
            outputs: The outputs to return; default: all.
            request_id: The request's `id`, echoed back, also sent as `X-Request-Id`;
                default: one the server draws. Either way, `last_request_id`.

        Returns:
            The answer: `{"model_name", "model_version", "id", "outputs": [{"name",
            "datatype", "shape", "data"}, ...]}`, `data` flat in row-major order.

        Raises:
            ServingError: 400 for bad inputs; 404 for an unknown model or version.
        """
        tensors = (
            [_tensor(name, values) for name, values in inputs.items()]
            if isinstance(inputs, Mapping)
            else [dict(tensor) for tensor in inputs]
        )
        body: dict[str, Any] = {"inputs": tensors}
        if outputs is not None:
            body["outputs"] = [{"name": name} for name in outputs]
        if request_id is not None:
            body["id"] = request_id
        selector = "" if version is None else f"/versions/{int(version)}"
        path = f"/v2/models/{_quote(model)}{selector}/infer"
        return dict(self._call("POST", path, body, request_id=request_id, inference=True))

    # --- feedback -----------------------------------------------------------------------

    def feedback(self, model: str, labels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Send the true labels of earlier requests, for decay detection (`shipyard monitor`).

        Args:
            model: The served model's name.
            labels: `[{"request_id": ..., "label": ..., "row": 0}, ...]`: the id an answer
                carried (`last_request_id`), the true label (a class name or a number), and
                for a request of several rows the row's index in it (default 0).

        Returns:
            `{"stored": N, "file": ...}`: the labels stored, and the file that holds them.

        Raises:
            ServingError: 400 naming the bad label; 404 when the server keeps no request
                log (`--request-log-dir`) or serves no such model.
        """
        body = {"feedback": [dict(item) for item in labels]}
        return dict(self._call("POST", f"/v1/models/{_quote(model)}/feedback", body))

    # --- connections --------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection this client opened, in every thread."""
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r}, timeout_s={self.timeout_s})"

    def _examples(
        self,
        method: str,
        model: str,
        examples: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None,
        version: int | None,
        label: str | None,
        request_id: str | None,
    ) -> list[Any]:
        body: dict[str, Any] = {"examples": [dict(example) for example in examples]}
        if context is not None:
            body["context"] = dict(context)
        path = f"{_v1_path(model, version, label)}:{method}"
        answer = self._call("POST", path, body, request_id=request_id, inference=True)
        return list(answer["results"])

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        request_id: str | None = None,
        inference: bool = False,
    ) -> Any:
        """Send one request; return the decoded JSON of a 2xx answer.

        An inference request (`inference`) sends `request_id` as `X-Request-Id` and notes the
        answer's as `last_request_id` (None for an error answer).

        Raises:
            ServingError: An error status, an answer that is not JSON, or no answer.
        """
        url = self.url + path
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = _HEADERS if request_id is None else {**_HEADERS, _REQUEST_ID: request_id}
        status, payload, answered_id = self._send(method, self._prefix + path, data, url, headers)
        if inference:
            self._local.request_id = answered_id
        try:
            answer = json.loads(payload) if payload else None
        except ValueError:  # JSONDecodeError, UnicodeDecodeError
            answer = None
            if status < 400:
                raise ServingError(
                    f"{url} answered {status} with a body that is not JSON: "
                    f"{_excerpt(payload)}. Check that the URL is a Shipyard server.",
                    url=url,
                    status=status,
                ) from None
        if status >= 400:
            message = _error_message(answer) or _excerpt(payload) or "(no message)"
            raise ServingError(
                f"{method} {url} answered {status}: {message}",
                url=url,
                status=status,
                server_message=message,
            )
        return answer

    def _send(
        self, method: str, path: str, data: bytes | None, url: str, headers: dict[str, str]
    ) -> tuple[int, bytes, str | None]:
        """Send over this thread's connection; retry once on a connection gone stale.

        Returns:
            The status, the body and the answer's `X-Request-Id` (None without one).
        """
        for attempt in range(2):
            connection, reused = self._connection()
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                answered_id = response.getheader(_REQUEST_ID)
            except _STALE as exc:
                self._drop(connection)
                if reused and attempt == 0:
                    continue
                raise ServingError(
                    f"{self.url} closed the connection without answering {method} {url} ({exc}).",
                    url=url,
                ) from exc
            except ConnectionRefusedError:
                self._drop(connection)
                raise ServingError(
                    f"Cannot connect to {self.url}: the connection was refused.",
                    url=url,
                    hint="Check the URL, and that `shipyard serve` is running there.",
                ) from None
            except TimeoutError:
                self._drop(connection)
                raise ServingError(
                    f"{self.url} did not answer {method} {url} within {self.timeout_s:g} s.",
                    url=url,
                    hint="Send fewer rows per request, or raise the client's timeout_s.",
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop(connection)
                raise ServingError(f"Cannot reach {self.url}: {exc}.", url=url) from exc
            if response.will_close:
                self._drop(connection)
            return response.status, payload, answered_id
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """Return this thread's connection and whether it was used before."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, True
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = kind(self._host, self._port, timeout=self.timeout_s)
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection, False

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.connection = None
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)


def _v1_path(model: str, version: int | None, label: str | None) -> str:
    if version is not None and label is not None:
        raise InvalidParameterError(
            f"Name a version ({version}) or a label ({label!r}) of {model!r}, not both."
        )
    path = f"/v1/models/{_quote(model)}"
    if version is not None:
        return f"{path}/versions/{int(version)}"
    if label is not None:
        return f"{path}/labels/{_quote(label)}"
    return path


def _quote(name: str) -> str:
    return quote(name, safe="")


def _tensor(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """A V2 input tensor of shape `[N]`, its datatype told from the values."""
    data = list(values)
    present = [value for value in data if value is not None]
    if all(isinstance(value, str) for value in present) and present:
        datatype = "BYTES"
    elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        datatype = "INT64"
    else:
        datatype = "FP32"
    return {"name": name, "shape": [len(data)], "datatype": datatype, "data": data}


def _error_message(answer: Any) -> str | None:
    """The server's message: `{"error": "..."}`, or `{"error": {"message": "..."}}`."""
    if not isinstance(answer, dict):
        return None
    error = answer.get("error")
    if isinstance(error, dict):
        error = error.get("message")
    return error if isinstance(error, str) else None


def _excerpt(payload: bytes) -> str:
    text = payload.decode("utf-8", errors="replace").strip()
    return text if len(text) <= 200 else text[:197] + "..."
