"""The Starlette app that serves a registry, and `serve`, which runs it with uvicorn.

On startup the app loads every model (the server takes requests only once they are loaded)
and starts the reloader, the batch threads and the request log; on shutdown, once uvicorn
has finished the requests in flight, it stops them, writes what the request log holds, and
retires every version. With `workers` > 1, uvicorn starts that many processes on one port;
each builds its own app with `create_app` from the settings `serve` put in the environment,
and loads and polls its models itself.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import tempfile
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from shipyard.errors import ShipyardError
from shipyard.serving.batching import BatchScheduler
from shipyard.serving.config import dump_settings, load_settings
from shipyard.serving.front import InferenceFront
from shipyard.serving.inference import Inference, InlinePolicy
from shipyard.serving.kserve_api import KServeAPI
from shipyard.serving.loaded_model import providers
from shipyard.serving.messages import (
    json_response,
    on_http_exception,
    on_shipyard_error,
    on_unexpected,
)
from shipyard.serving.metrics import MULTIPROCESS_DIR, Metrics, RequestMetrics
from shipyard.serving.openapi import openapi_document
from shipyard.serving.registry import ModelRegistry
from shipyard.serving.reload import Reloader
from shipyard.serving.request_log import RequestLog
from shipyard.serving.tf_serving_api import TFServingAPI

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection

    from starlette.requests import Request
    from starlette.responses import Response

    from shipyard.serving.config import ModelConfig, ServerOptions

logger = logging.getLogger("shipyard.serving")
SETTINGS_VARIABLE = "SHIPYARD_SERVE_SETTINGS"
"""The environment variable through which `serve` hands its settings to worker processes."""


def build_app(models: Collection[ModelConfig], options: ServerOptions) -> InferenceFront:
    """Return the app serving `models`: TF Serving's `/v1`, KServe's `/v2`, metrics, OpenAPI.

    Inference requests are answered by `InferenceFront` itself, the others by a Starlette
    app behind it. The app's `state.registry` is its `ModelRegistry`.

    Raises:
        InvalidParameterError: The options ask for a device ONNX Runtime lacks.

    Example:
        >>> app = build_app([ModelConfig("penguins", base)], ServerOptions())
        >>> uvicorn.run(app, port=8501)
    """
    metrics = Metrics([model.name for model in models])
    scheduler = None
    if options.batching is not None:
        scheduler = BatchScheduler(options.batching, observe=metrics.observe_batch)
    registry = ModelRegistry(
        models, options.runtime, scheduler=scheduler, on_versions=metrics.set_versions
    )
    request_log = None
    if options.request_log is not None:
        counter = metrics.log_rows
        request_log = RequestLog(
            options.request_log, on_rows=lambda outcome, rows: counter.labels(outcome).inc(rows)
        )
    reloader = Reloader(registry, poll_s=options.poll_s, config_file=options.model_config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(registry.sync)
        for name in registry.names:
            if not registry.is_ready(name):
                logger.warning("No version of %s is available yet; polling for one.", name)
        reloader.start()
        if request_log is not None:
            request_log.start()
        try:
            yield
        finally:
            reloader.stop()
            if scheduler is not None:
                await anyio.to_thread.run_sync(scheduler.close)
            if request_log is not None:
                await anyio.to_thread.run_sync(request_log.close)
            registry.close()
            metrics.close()

    document = openapi_document(registry.names)

    async def openapi(request: Request) -> Response:
        """`GET /openapi.json`: the OpenAPI description of this server."""
        return json_response(document)

    inline = InlinePolicy(max_run_s=options.inline_run_micros / 1e6)
    inference = Inference(registry, metrics=metrics, request_log=request_log, inline=inline)
    limit = options.max_body_bytes
    log_dir = None if options.request_log is None else options.request_log.directory
    app = Starlette(
        routes=[
            *TFServingAPI(registry, inference, max_body_bytes=limit, log_dir=log_dir).routes(),
            *KServeAPI(registry, inference, max_body_bytes=limit).routes(),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        middleware=[Middleware(RequestMetrics, metrics=metrics)],
        exception_handlers={
            HTTPException: on_http_exception,
            ShipyardError: on_shipyard_error,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.registry = registry
    return InferenceFront(
        app, inference, model_names=registry.names, metrics=metrics, max_body_bytes=limit
    )


def create_app() -> InferenceFront:
    """Build the app of one worker process from the settings `serve` put in the environment.

    Raises:
        KeyError: The environment holds no settings (this runs only under `serve`).
    """
    models, options = load_settings(os.environ[SETTINGS_VARIABLE])
    return build_app(models, options)


def serve(models: Collection[ModelConfig], options: ServerOptions) -> None:
    """Serve `models` until interrupted, in `options.workers` processes.

    Raises:
        InvalidParameterError: The options ask for a device ONNX Runtime lacks.
    """
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    providers(options.runtime.device)  # before listening, in this process
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["shipyard"] = {"handlers": ["default"], "level": "INFO"}
    if options.workers == 1:
        app: InferenceFront | str = build_app(models, options)
    else:
        app = "shipyard.serving.app:create_app"
    # The workers' shared metrics files; one process keeps its metrics in memory and needs
    # none. (uvicorn ends a process stopped by SIGTERM by raising the signal again once it
    # has shut down, which skips this cleanup: a directory made for nothing would be left.)
    metrics = (
        tempfile.TemporaryDirectory(prefix="shipyard-metrics-")
        if options.workers > 1
        else contextlib.nullcontext("")
    )
    with metrics as metrics_dir:
        if options.workers > 1:
            os.environ[SETTINGS_VARIABLE] = dump_settings(models, options)
            os.environ[MULTIPROCESS_DIR] = metrics_dir
        try:
            uvicorn.run(
                app,
                factory=options.workers > 1,
                workers=options.workers,
                host=options.host,
                port=options.port,
                log_config=log_config,
                access_log=options.access_log,
                lifespan="on",
                timeout_graceful_shutdown=30,
            )
        finally:
            if options.workers > 1:
                del os.environ[SETTINGS_VARIABLE], os.environ[MULTIPROCESS_DIR]
