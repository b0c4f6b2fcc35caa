"""The Starlette app of `shipyard ui`: pages, the JSON API, its OpenAPI document, assets.

Expected errors never become a 500: a parameter that cannot be used is a 400 naming it, and
a run or artifact that does not exist a 404 (`application/problem+json` under `/api/`, an
HTML page elsewhere).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from shipyard.errors import InvalidParameterError, NotFoundError
from shipyard.ui import api, logs_api, pages
from shipyard.ui.api import ModelSources
from shipyard.ui.html import PAGE_CONTEXT, escape, page
from shipyard.ui.openapi import openapi_document
from shipyard.ui.problems import BadParameter, problem

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Receive, Scope, Send

    from shipyard.runners import Project

STATIC_DIR = Path(__file__).parent / "static"


def create_app(project: Project, *, models: ModelSources | None = None) -> Starlette:
    """Return the UI's app over `project` (open its store read-only: `ui.read_only`).

    The pages' links, forms and scripts name the UI's paths under the ASGI `root_path` the
    app is served at: `/` for `shipyard ui`, `/projects/P` in the platform server.

    Args:
        project: The project whose store and artifacts the pages show.
        models: Where the models page looks (default: `models/` of the current directory,
            no server).

    Example:
        >>> app = create_app(open_read_only())
        >>> uvicorn.run(app, host="127.0.0.1", port=8080)
    """
    routes = [
        Route("/", pages.home_page),
        Route("/runs", pages.runs_page),
        Route("/runs/{run_id}", pages.run_page),
        Route("/artifacts/{artifact_id}", pages.artifact_page),
        Route("/artifacts/{artifact_id}/lineage", pages.lineage_page),
        Route("/artifacts/{artifact_id}/files/{name}", pages.artifact_file),
        Route("/models", pages.models_page),
        Route("/compare", pages.compare_page),
        Route("/compare/statistics", pages.compared_statistics_page),
        Route("/api/openapi.json", _openapi),
        Route("/api/runs", api.list_runs_api),
        Route("/api/runs/{run_id}", api.run_api),
        Route("/api/runs/{run_id}/events", api.run_events_api),
        Route("/api/runs/{run_id}/logs", logs_api.logs_api),
        Route("/api/runs/{run_id}/logs/events", logs_api.log_events_api),
        Route("/api/artifacts/{artifact_id}", api.artifact_api),
        Route("/api/artifacts/{artifact_id}/lineage", api.lineage_api),
        Route("/api/models", api.models_api),
        Route("/api/compare", api.compare_api),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_Rooted)],
        exception_handlers={
            BadParameter: _bad_parameter,
            InvalidParameterError: _invalid,
            NotFoundError: _not_found,
            404: _no_route,
        },
    )
    app.state.project = project
    app.state.models = models or ModelSources(Path("models").resolve())
    return app


class _Rooted:
    """Sets the pages' context to the root path the app is served at (see `html.url`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        root = scope.get("root_path", "").rstrip("/")
        token = PAGE_CONTEXT.set(replace(PAGE_CONTEXT.get(), root=root))
        try:
            await self.app(scope, receive, send)
        finally:
            PAGE_CONTEXT.reset(token)


async def _openapi(request: Request) -> Response:
    return api.json_response(openapi_document())


def _wants_json(request: Request) -> bool:
    root = request.scope.get("root_path", "")
    return request.url.path.removeprefix(root).startswith("/api/")


async def _bad_parameter(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadParameter)
    return _error(request, 400, str(exc), parameter=exc.name)


async def _invalid(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(request, 404, str(exc))


async def _no_route(request: Request, exc: Exception) -> Response:
    return _error(request, 404, f"Nothing at {request.url.path}.")


def _error(request: Request, status: int, detail: str, *, parameter: str | None = None) -> Response:
    if _wants_json(request):
        return problem(status, detail, parameter=parameter)
    title = "Not found" if status == 404 else "Bad request"
    body = f"<h1>{title}</h1><p class=alert role=alert>{escape(detail)}</p>"
    return HTMLResponse(page(title, body, script=False), status_code=status)
