"""A client of the platform server's jobs API, with the standard library only.

Each call opens one connection (`http.client`), sends `Authorization: Bearer TOKEN`, and
returns the JSON answer; a refusal raises `ServerRequestError` with the server's problem
`detail` and status, and a server that cannot be reached says so.

Example:
    >>> client = JobsClient("http://127.0.0.1:8000", token="shp_...")
    >>> client.submit({"entrypoint": "python -c 'print(1)'", "project": "taxi"})
    {'job_id': 1, 'submission_id': 'sub_...'}
"""

from __future__ import annotations

import http.client
import json
import time
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit

from shipyard._version import __version__
from shipyard.errors import InvalidParameterError, ServerRequestError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["DEFAULT_SERVER", "JobsClient"]

DEFAULT_SERVER: Final = "http://127.0.0.1:8000"
_HINTS: Final = {
    401: "Give an API token with --token or SHIPYARD_TOKEN (shipyard tokens create NAME).",
    403: "Ask an admin of the project for a role that may do this (shipyard grant).",
}


class JobsClient:
    """Talk to one platform server.

    Args:
        url: The server's base URL (http or https).
        token: The API token, or None.
        timeout_s: How long to wait for the connection and each answer.

    Raises:
        InvalidParameterError: The URL is not an http(s) URL with a host.
    """

    def __init__(self, url: str, *, token: str | None = None, timeout_s: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParameterError(
                f"The server URL {url!r} is not an http(s) URL with a host; "
                f"use e.g. {DEFAULT_SERVER}."
            )
        self.url = url.rstrip("/")
        self._parts = parts
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s

    # Requests ------------------------------------------------------------------------------
    def upload_package(self, project: str, data: bytes) -> str:
        """Upload a tar.gz working directory; return its sha256 (the `working_dir`)."""
        answer = self._call("POST", "/api/packages", {"project": project}, data, "application/gzip")
        return str(answer["working_dir"])

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """Submit a job (Ray's body shape); return `job_id` and `submission_id`."""
        answer: dict[str, Any] = self._call("POST", "/api/jobs/", None, json.dumps(body).encode())
        return answer

    def list_jobs(
        self, *, project: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The newest jobs first."""
        query = {"project": project, "status": status, "limit": str(limit)}
        answer = self._call("GET", "/api/jobs/", {k: v for k, v in query.items() if v})
        jobs: list[dict[str, Any]] = answer["jobs"]
        return jobs

    def get(self, job_id: int) -> dict[str, Any]:
        """One job."""
        answer: dict[str, Any] = self._call("GET", f"/api/jobs/{job_id}")
        return answer

    def logs(self, job_id: int) -> str:
        """The job's logs so far."""
        return str(self._call("GET", f"/api/jobs/{job_id}/logs")["logs"])

    def stop(self, job_id: int) -> dict[str, Any]:
        """Ask the server to stop a job."""
        answer: dict[str, Any] = self._call("POST", f"/api/jobs/{job_id}/stop")
        return answer

    def retry(self, job_id: int) -> dict[str, Any]:
        """Queue a job that ended again."""
        answer: dict[str, Any] = self._call("POST", f"/api/jobs/{job_id}/retry")
        return answer

    def delete(self, job_id: int) -> dict[str, Any]:
        """Delete a job that ended."""
        answer: dict[str, Any] = self._call("DELETE", f"/api/jobs/{job_id}")
        return answer

    def tail(self, job_id: int, *, reconnect_s: float = 60.0) -> Iterator[tuple[str, Any]]:
        """Yield the job's log as it is written: ("log", text) events, then ("end", job), or
        ("deleted", {"job_id": ...}) if the job was deleted meanwhile.

        A stream that breaks (the server restarted) is opened again after the last chunk
        received, for up to `reconnect_s`; nothing is printed twice or lost.
        """
        after, broken_since = 0, None
        while True:
            try:
                for event, data, seq in self._events(job_id, after):
                    broken_since = None
                    if seq is not None:
                        after = seq
                    yield event, data
                    if event in ("end", "deleted"):
                        return
                raise ConnectionResetError("the stream ended before the job")
            except (OSError, http.client.HTTPException, ServerRequestError) as exc:
                if isinstance(exc, ServerRequestError) and exc.status is not None:
                    raise
                broken_since = broken_since or time.monotonic()
                if time.monotonic() - broken_since > reconnect_s:
                    raise
                time.sleep(0.5)

    def _events(self, job_id: int, after: int) -> Iterator[tuple[str, Any, int | None]]:
        path = f"/api/jobs/{job_id}/logs/tail?after={after}"
        connection, response = self._send("GET", path, timeout_s=None)
        try:
            event, data, seq = "message", "", None
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("id: "):
                    seq = int(line[len("id: ") :])
                elif line.startswith("data: "):
                    data = line[len("data: ") :]
                elif not line and data:
                    yield event, json.loads(data), seq
                    event, data, seq = "message", "", None
        finally:
            connection.close()

    # Transport -----------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        if query:
            path = f"{path}?{urlencode(query)}"
        connection, response = self._send(method, path, body, content_type)
        try:
            return json.loads(response.read())
        finally:
            connection.close()

    def _send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        *,
        timeout_s: float | None = -1.0,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        kind = (
            http.client.HTTPSConnection
            if self._parts.scheme == "https"
            else http.client.HTTPConnection
        )
        timeout = self._timeout_s if timeout_s == -1.0 else timeout_s
        connection = kind(self._parts.hostname or "", self._parts.port, timeout=timeout)
        headers = {"User-Agent": f"shipyard-jobs/{__version__}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        url = f"{self.url}{path}"
        try:
            connection.request(method, self._prefix + path, body=body, headers=headers)
            response = connection.getresponse()
        except OSError as exc:
            connection.close()
            raise ServerRequestError(
                f"Cannot reach the platform server at {self.url}: {exc}.",
                url=url,
                hint="Check --server or SHIPYARD_SERVER, and that `shipyard server` runs.",
            ) from exc
        if response.status >= 400:
            try:
                detail = json.loads(response.read()).get("detail", "")
            except (ValueError, AttributeError):
                detail = ""
            connection.close()
            raise ServerRequestError(
                f"{method} {url} answered {response.status}: {detail or response.reason}",
                url=url,
                status=response.status,
                hint=_HINTS.get(response.status),
            )
        return connection, response
