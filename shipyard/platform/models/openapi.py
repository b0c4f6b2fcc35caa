"""The OpenAPI 3.1 paths of the models and endpoints API, for the server's document to
include beside the others' (`"#/components/responses/Problem"` is the problem document).

The prediction proxy's paths (`.../endpoints/{endpoint}/v1/...` and `/v2/...`) are those of
`shipyard serve`'s own document (`shipyard.serving.openapi`, which owns them and their
schemas) under the endpoint's prefix, with the proxy's answers added: 401, 403 and 404 as
problem documents (no token, no role, no such project or endpoint), 502 and 503 when the
endpoint's server does not answer or is not running.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["model_paths", "proxy_schemas"]

PROXY_PREFIX: Final = "/api/projects/{project}/endpoints/{endpoint}"

_PROBLEM: Final = {"$ref": "#/components/responses/Problem"}
_DENIED: Final = {"401": _PROBLEM, "403": _PROBLEM, "404": _PROBLEM}
_NAME: Final = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^[^./\\:][^/\\:]*$",
}
_VERSION: Final = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
_TRAFFIC: Final = {
    "stable": _VERSION,
    "canary": _VERSION,
    "canary_percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
}
_PROBLEM_SCHEMA: Final = {"type": "object", "required": ["type", "title", "status", "detail"]}
_MODEL: Final = {"type": "object", "required": ["project", "name", "description"]}
_ENDPOINT: Final = {"type": "object", "required": ["project", "name", "model", "traffic"]}


def _path_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": _NAME,
        "description": description,
    }


def _ok(schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": schema}}}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _operation(
    summary: str,
    operation_id: str,
    responses: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation = {
        "summary": summary,
        "operationId": operation_id,
        "responses": {**responses, **_DENIED},
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def model_paths() -> dict[str, Any]:
    """The paths of `shipyard.platform.models.routes.model_routes`."""
    project = [_path_parameter("project", "The project.")]
    model = [*project, _path_parameter("model", "A registered model.")]
    endpoint = [*project, _path_parameter("endpoint", "An endpoint of the project.")]
    endpoint_ok = _ok(_ENDPOINT, "The endpoint.")
    paths: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
        "/api/projects/{project}/models": (project, {
            "get": _operation("The project's registered models.", "listModels",
                              {"200": _ok({"type": "object"}, "The models.")}),
            "post": _operation(
                "Register a model name.", "createModel",
                {"201": _ok(_MODEL, "Registered."), "400": _PROBLEM, "409": _PROBLEM},
                body=_body({"name": _NAME, "description": {"type": "string"}}, ["name"]),
            ),
        }),
        "/api/projects/{project}/models/{model}": (model, {
            "get": _operation("A model and its versions, newest first.", "getModel",
                              {"200": _ok(_MODEL, "The model.")}),
        }),
        "/api/projects/{project}/models/{model}/versions": (model, {
            "post": _operation(
                "Register a pushed model (by artifact id, or a run's newest push).",
                "registerVersion",
                {"200": _ok({"type": "object"}, "Registered before: that version."),
                 "201": _ok({"type": "object"}, "The new version."), "400": _PROBLEM},
                body=_body({"artifact_id": _VERSION, "run_id": {"type": "string"}}, []),
            ),
        }),
        "/api/projects/{project}/endpoints": (project, {
            "get": _operation("The project's endpoints.", "listEndpoints",
                              {"200": _ok({"type": "object"}, "The endpoints.")}),
            "post": _operation(
                "Add an endpoint for a model; deploy `stable` (and a canary) if given.",
                "createEndpoint",
                {"201": endpoint_ok, "400": _PROBLEM, "409": _PROBLEM, "502": _PROBLEM},
                body=_body({"name": _NAME, "model": _NAME, **_TRAFFIC}, ["name", "model"]),
            ),
        }),
        "/api/projects/{project}/endpoints/{endpoint}": (endpoint, {
            "get": _operation("The endpoint and what its server serves now.", "getEndpoint",
                              {"200": endpoint_ok}),
            "delete": _operation("Stop the endpoint's server and remove it.", "deleteEndpoint",
                                 {"204": {"description": "Removed."}}),
        }),
        "/api/projects/{project}/endpoints/{endpoint}/traffic": (endpoint, {
            "put": _operation(
                "Serve `stable`, and `canary` with `canary_percent` of the requests.",
                "setTraffic",
                {"200": endpoint_ok, "400": _PROBLEM, "502": _PROBLEM},
                body=_body(_TRAFFIC, ["stable"]),
            ),
        }),
        "/api/projects/{project}/endpoints/{endpoint}/promote": (endpoint, {
            "post": _operation("The canary becomes stable.", "promoteEndpoint",
                               {"200": endpoint_ok, "409": _PROBLEM, "502": _PROBLEM}),
        }),
        "/api/projects/{project}/endpoints/{endpoint}/rollback": (endpoint, {
            "post": _operation("Drop the canary.", "rollbackEndpoint",
                               {"200": endpoint_ok, "409": _PROBLEM, "502": _PROBLEM}),
        }),
    }  # fmt: skip
    documented = {
        path: {"parameters": parameters, **operations}
        for path, (parameters, operations) in paths.items()
    }
    return documented | _proxy_paths(endpoint)


def proxy_schemas() -> dict[str, Any]:
    """The schemas the proxy's paths refer to (`#/components/schemas/...`): the serving
    document's."""
    from shipyard.serving.openapi import openapi_document

    schemas: dict[str, Any] = openapi_document([])["components"]["schemas"]
    return schemas


def _proxy_paths(endpoint: list[dict[str, Any]]) -> dict[str, Any]:
    """`shipyard serve`'s `/v1/...` and `/v2/...` paths under the endpoint's prefix."""
    from shipyard.serving.openapi import openapi_document

    proxied: dict[str, Any] = {}
    for path, operations in openapi_document([])["paths"].items():
        if not path.startswith(("/v1/", "/v2/")):
            continue  # the proxy passes on nothing else
        proxied[PROXY_PREFIX + path] = {
            "parameters": endpoint,
            **{method: _proxied(op) for method, op in operations.items()},
        }
    return proxied


def _proxied(operation: dict[str, Any]) -> dict[str, Any]:
    """A serving operation as the proxy answers it (a model is named by any model name)."""
    parameters = [
        {**p, "schema": _NAME} if p["name"] == "name" else p for p in operation["parameters"]
    ]
    responses = dict(operation["responses"])
    for code in ("401", "403"):
        responses[code] = _PROBLEM
    for code in ("400", "404", "413", "502", "503"):  # the proxy's, or the served answer
        served = responses.get(code, {}).get("content", {})
        responses[code] = {
            "description": responses.get(code, {}).get("description", "")
            or "The proxy's or the endpoint's answer.",
            "content": {**served, "application/problem+json": {"schema": _PROBLEM_SCHEMA}},
        }
    return {
        **operation,
        "summary": f"Through the platform's auth: {operation['summary']}",
        "parameters": parameters,
        "responses": responses,
    }
