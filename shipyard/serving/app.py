"""The Starlette app that serves a registry, and `serve`, which runs it with uvicorn.

On startup the app loads every model (the server takes requests only once they are loaded)
and starts the reloader; on shutdown it stops the reloader and retires every version.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from shipyard.errors import ShipyardError
from shipyard.serving.kserve_api import KServeAPI
from shipyard.serving.messages import on_http_exception, on_shipyard_error, on_unexpected
from shipyard.serving.registry import ModelRegistry
from shipyard.serving.reload import Reloader
from shipyard.serving.tf_serving_api import TFServingAPI

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from shipyard.serving.config import ModelConfig, ServerOptions

logger = logging.getLogger("shipyard.serving")


def build_app(registry: ModelRegistry, options: ServerOptions) -> Starlette:
    """Return the app: TF Serving's `/v1` and KServe's `/v2` routes over `registry`.

    Example:
        >>> registry = ModelRegistry([ModelConfig("penguins", base)], RuntimeOptions())
        >>> uvicorn.run(build_app(registry, ServerOptions()), port=8501)
    """
    reloader = Reloader(registry, poll_s=options.poll_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(registry.sync)
        for name in registry.names:
            if not registry.is_ready(name):
                logger.warning("No version of %s is available yet; polling for one.", name)
        reloader.start()
        try:
            yield
        finally:
            reloader.stop()
            registry.close()

    limit = options.max_body_bytes
    return Starlette(
        routes=[
            *TFServingAPI(registry, max_body_bytes=limit).routes(),
            *KServeAPI(registry, max_body_bytes=limit).routes(),
        ],
        exception_handlers={
            HTTPException: on_http_exception,
            ShipyardError: on_shipyard_error,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )


def serve(models: Iterable[ModelConfig], options: ServerOptions) -> None:
    """Serve `models` until interrupted.

    Raises:
        InvalidParameterError: The options ask for a device ONNX Runtime lacks.
    """
    import uvicorn

    registry = ModelRegistry(models, options.runtime)
    uvicorn.run(
        build_app(registry, options),
        host=options.host,
        port=options.port,
        log_level="info",
        lifespan="on",
    )
