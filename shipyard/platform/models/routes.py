"""The REST API of models and endpoints, for the platform server to mount behind its auth.

    GET    /api/projects/{project}/models                     registered models
    POST   /api/projects/{project}/models                     register one: name, description
    GET    /api/projects/{project}/models/{model}             one, with its versions
    POST   /api/projects/{project}/models/{model}/versions    register a push: artifact_id
                                                              or run_id (its newest push)
    GET    /api/projects/{project}/endpoints                  endpoints
    POST   /api/projects/{project}/endpoints                  add one: name, model, and
                                                              optionally stable, canary,
                                                              canary_percent (deployed)
    GET    /api/projects/{project}/endpoints/{endpoint}       it, and what its server serves
    DELETE /api/projects/{project}/endpoints/{endpoint}       stop it and remove it
    PUT    /api/projects/{project}/endpoints/{endpoint}/traffic   stable, canary, canary_percent
    POST   /api/projects/{project}/endpoints/{endpoint}/promote   the canary becomes stable
    POST   /api/projects/{project}/endpoints/{endpoint}/rollback  the canary is dropped
    GET|POST /api/projects/{project}/endpoints/{endpoint}/v1/...  (and /v2/...) proxied to
                                                              the endpoint's server (`proxy`)

Reading needs `Action.READ` in the project, every change `Action.EDIT`; a project the
principal may not read is a 404. Errors are problem documents: a bad field 400 naming it, a
miss 404, a name taken or an endpoint without a canary 409, an endpoint's server that does not
serve what was deployed 502 (with its log's end).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from starlette.responses import Response
from starlette.routing import Route

from shipyard.errors import ConfigError, ServingError
from shipyard.platform.access import Action
from shipyard.platform.auth.denials import actor_of
from shipyard.platform.auth.endpoints import answer, endpoint, field
from shipyard.platform.auth.middleware import principal_of
from shipyard.platform.models.documents import (
    endpoint_document,
    model_document,
    status_document,
    version_document,
)
from shipyard.platform.models.proxy import proxy_route
from shipyard.ui.problems import BadParameter, problem

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from shipyard.platform.auth.audit import AuditLog
    from shipyard.platform.auth.endpoints import Body
    from shipyard.platform.models.records import Endpoint
    from shipyard.platform.models.registry import ModelRegistry
    from shipyard.platform.models.supervisor import EndpointSupervisor

__all__ = ["model_routes"]

_PROJECT: Final = "/api/projects/{project}"
_ENDPOINT: Final = _PROJECT + "/endpoints/{endpoint}"


def model_routes(
    registry: ModelRegistry, supervisor: EndpointSupervisor, audit: AuditLog
) -> list[BaseRoute]:
    """Return the routes of the API above, to mount behind `AuthMiddleware`.

    Example:
        >>> supervisor = EndpointSupervisor(registry, root)
        >>> app = Starlette(routes=[*auth_routes(accounts, audit),
        ...                         *model_routes(registry, supervisor, audit)], ...)
    """
    api = _ModelApi(registry, supervisor)
    handlers: dict[tuple[str, str], Callable[[Request, Body], Response]] = {
        (_PROJECT + "/models", "GET"): api.list_models,
        (_PROJECT + "/models", "POST"): api.create_model,
        (_PROJECT + "/models/{model}", "GET"): api.get_model,
        (_PROJECT + "/models/{model}/versions", "POST"): api.register_version,
        (_PROJECT + "/endpoints", "GET"): api.list_endpoints,
        (_PROJECT + "/endpoints", "POST"): api.create_endpoint,
        (_ENDPOINT, "GET"): api.get_endpoint,
        (_ENDPOINT, "DELETE"): api.delete_endpoint,
        (_ENDPOINT + "/traffic", "PUT"): api.set_traffic,
        (_ENDPOINT + "/promote", "POST"): api.promote,
        (_ENDPOINT + "/rollback", "POST"): api.rollback,
    }
    routes: list[BaseRoute] = [
        Route(path, endpoint(_answering_conflicts(handler), audit), methods=[method])
        for (path, method), handler in handlers.items()
    ]
    return [*routes, proxy_route(supervisor, audit)]


def _answering_conflicts(
    handler: Callable[[Request, Body], Response],
) -> Callable[[Request, Body], Response]:
    """Answer an endpoint without a canary (409) and a server that did not serve (502)."""

    def answering(request: Request, body: Body) -> Response:
        try:
            return handler(request, body)
        except ConfigError as error:
            return problem(409, str(error))
        except ServingError as error:
            return problem(502, error.message)

    return answering


def _project(request: Request, action: Action) -> str:
    """The path's project, once the principal may do `action` in it."""
    project = str(request.path_params["project"])
    principal_of(request).require(action, project)
    return project


class _ModelApi:
    """The handlers, over one registry and supervisor."""

    def __init__(self, registry: ModelRegistry, supervisor: EndpointSupervisor) -> None:
        self.registry = registry
        self.supervisor = supervisor

    # Models ---------------------------------------------------------------------------------
    def list_models(self, request: Request, body: Body) -> Response:
        project = _project(request, Action.READ)
        models = self.registry.list_models(project)
        return answer({"models": [model_document(m) for m in models]})

    def create_model(self, request: Request, body: Body) -> Response:
        project = _project(request, Action.EDIT)
        model = self.registry.create_model(
            project,
            field(body, "name", str, required=True),
            description=field(body, "description", str) or "",
            actor=actor_of(request),
        )
        return answer(model_document(model, []), 201)

    def get_model(self, request: Request, body: Body) -> Response:
        project = _project(request, Action.READ)
        name = request.path_params["model"]
        model = self.registry.get_model(project, name)
        return answer(model_document(model, self.registry.list_versions(project, name)))

    def register_version(self, request: Request, body: Body) -> Response:
        project = _project(request, Action.EDIT)
        version, new = self.registry.register_version(
            project,
            request.path_params["model"],
            artifact_id=field(body, "artifact_id", int),
            run_id=field(body, "run_id", str),
            actor=actor_of(request),
        )
        return answer(version_document(version), 201 if new else 200)

    # Endpoints ------------------------------------------------------------------------------
    def list_endpoints(self, request: Request, body: Body) -> Response:
        project = _project(request, Action.READ)
        endpoints = self.supervisor.list_endpoints(project)
        return answer({"endpoints": [endpoint_document(e) for e in endpoints]})

    def create_endpoint(self, request: Request, body: Body) -> Response:
        project = _project(request, Action.EDIT)
        name = field(body, "name", str, required=True)
        created = self.supervisor.create(
            project, name, model=field(body, "model", str, required=True), actor=actor_of(request)
        )
        if body.get("stable") is not None:
            created = self._deploy(request, project, name, body)
        return answer(endpoint_document(created), 201)

    def get_endpoint(self, request: Request, body: Body) -> Response:
        project = _project(request, Action.READ)
        status = self.supervisor.status(project, request.path_params["endpoint"])
        return answer(status_document(status))

    def delete_endpoint(self, request: Request, body: Body) -> Response:
        project = _project(request, Action.EDIT)
        self.supervisor.delete(project, request.path_params["endpoint"], actor=actor_of(request))
        return Response(status_code=204)

    def set_traffic(self, request: Request, body: Body) -> Response:
        project = _project(request, Action.EDIT)
        deployed = self._deploy(request, project, request.path_params["endpoint"], body)
        return answer(endpoint_document(deployed))

    def promote(self, request: Request, body: Body) -> Response:
        return self._end_canary(request, promote=True)

    def rollback(self, request: Request, body: Body) -> Response:
        return self._end_canary(request, promote=False)

    def _end_canary(self, request: Request, *, promote: bool) -> Response:
        project = _project(request, Action.EDIT)
        ended = self.supervisor.end_canary(
            project, request.path_params["endpoint"], promote=promote, actor=actor_of(request)
        )
        return answer(endpoint_document(ended))

    def _deploy(self, request: Request, project: str, name: str, body: Body) -> Endpoint:
        stable = _version(body, "stable", required=True)
        assert stable is not None  # required
        return self.supervisor.deploy(
            project,
            name,
            stable=stable,
            canary=_version(body, "canary"),
            canary_percent=_percent(body),
            actor=actor_of(request),
        )


def _version(body: Body, name: str, *, required: bool = False) -> int | None:
    value: int | None = field(body, name, int, required=required)
    if value is not None and value < 1:
        raise BadParameter(name, f"must be a registered version, 1 or more. Got {value}.")
    return value


def _percent(body: Body) -> float:
    value = body.get("canary_percent")
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadParameter(
            "canary_percent", f"must be a JSON number. Got {type(value).__name__} instead."
        )
    return float(value)
