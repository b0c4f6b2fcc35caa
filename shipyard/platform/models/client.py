"""A client of the platform server's models and endpoints API (`routes`), on the jobs
client's transport: the standard library only, `Authorization: Bearer TOKEN`, and a refusal
raised as `ServerRequestError` with the server's problem `detail`.

Example:
    >>> client = ModelsClient("http://127.0.0.1:8000", token="shp_...")
    >>> client.register("taxi", "fares", run_id="2026-01-05T12-03-ab12")["version"]
    3
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from shipyard.errors import ServerRequestError
from shipyard.platform.jobs.client import JobsClient

__all__ = ["ModelsClient"]


class ModelsClient(JobsClient):
    """Register models and deploy them to endpoints on one platform server.

    Args:
        url: The server's base URL (http or https).
        token: The API token, or None.
        timeout_s: How long to wait for the connection and each answer (a deploy waits for
            the endpoint's server to serve the versions).
    """

    def create_model(self, project: str, name: str, *, description: str = "") -> dict[str, Any]:
        """Register a model name in `project`."""
        body = {"name": name, "description": description}
        return self._json("POST", _project(project, "models"), body)

    def register(
        self, project: str, model: str, *, artifact_id: int | None = None, run_id: str | None = None
    ) -> dict[str, Any]:
        """Register a pushed model as the model's next version (the model is registered first
        when it is new); return the version (the one it is already, if registered before)."""
        try:
            self.create_model(project, model)
        except ServerRequestError as error:
            if error.status != 409:  # registered before
                raise
        body = {"artifact_id": artifact_id, "run_id": run_id}
        path = _project(project, "models", model, "versions")
        return self._json("POST", path, {k: v for k, v in body.items() if v is not None})

    def endpoints(self, project: str) -> list[dict[str, Any]]:
        """The project's endpoints."""
        found: list[dict[str, Any]] = self._json("GET", _project(project, "endpoints"))["endpoints"]
        return found

    def endpoint(self, project: str, name: str) -> dict[str, Any]:
        """An endpoint and what its server serves now."""
        return self._json("GET", _project(project, "endpoints", name))

    def deploy(
        self,
        project: str,
        name: str,
        *,
        model: str,
        stable: int,
        canary: int | None = None,
        canary_percent: float | None = None,
    ) -> dict[str, Any]:
        """Serve versions of `model` at the endpoint `name`, which is added if it is new."""
        traffic = _traffic(stable, canary, canary_percent)
        try:
            self.endpoint(project, name)
        except ServerRequestError as error:
            if error.status != 404:
                raise
            body = {"name": name, "model": model, **traffic}
            return self._json("POST", _project(project, "endpoints"), body)
        return self.set_traffic(
            project, name, stable=stable, canary=canary, canary_percent=canary_percent
        )

    def set_traffic(
        self,
        project: str,
        name: str,
        *,
        stable: int,
        canary: int | None = None,
        canary_percent: float | None = None,
    ) -> dict[str, Any]:
        """Serve `stable`, and `canary` with `canary_percent` of the requests naming no version."""
        path = _project(project, "endpoints", name, "traffic")
        return self._json("PUT", path, _traffic(stable, canary, canary_percent))

    def end_canary(self, project: str, name: str, *, promote: bool) -> dict[str, Any]:
        """Promote the endpoint's canary, or roll it back."""
        verb = "promote" if promote else "rollback"
        return self._json("POST", _project(project, "endpoints", name, verb))

    def delete_endpoint(self, project: str, name: str) -> None:
        """Stop an endpoint's server and remove the endpoint (the answer has no body)."""
        connection, response = self._send("DELETE", _project(project, "endpoints", name))
        try:
            response.read()
        finally:
            connection.close()

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        answer: dict[str, Any] = self._call(method, path, None, data)
        return answer


def _project(project: str, *parts: str) -> str:
    return "/api/projects/" + "/".join(quote(part, safe="") for part in (project, *parts))


def _traffic(stable: int, canary: int | None, canary_percent: float | None) -> dict[str, Any]:
    traffic = {"stable": stable, "canary": canary, "canary_percent": canary_percent}
    return {k: v for k, v in traffic.items() if v is not None}
