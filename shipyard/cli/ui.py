"""`shipyard ui`: the web UI over the metadata store, until interrupted.

It finds the store as `shipyard runs` does (or `--store`) and opens it read-only, binds to
127.0.0.1 unless told otherwise, and needs the "serve" extra (Starlette and uvicorn).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.options import (
    ArtifactRootOption,
    ModelConfigOption,
    ModelsDirOption,
    StoreOption,
)


def ui_command(
    store: StoreOption = None,
    host: Annotated[
        str,
        typer.Option(
            "--host", help="Address to listen on; 0.0.0.0 shows the store to your network."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port.")] = 8080,
    artifact_root: ArtifactRootOption = None,
    models_dir: ModelsDirOption = Path("models"),
    model_config: ModelConfigOption = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="A running `shipyard serve`'s URL: the models page shows what it serves and "
            "each version's request rate.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the read-only web UI over the store: runs, their graphs, artifacts and models."""
    from shipyard.cli.output import console
    from shipyard.cli.web_app import run_web_app
    from shipyard.ui import create_app
    from shipyard.ui.api import ModelSources
    from shipyard.ui.read_only import open_read_only

    project = open_read_only(store, artifact_root)
    config = None if model_config is None else model_config.expanduser().resolve()
    models = ModelSources(models_dir.expanduser().resolve(), config, server)
    app = create_app(project, models=models)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    console().print(
        f"Shipyard UI on http://{shown}:{port}/ (store {project.settings.store_url}, "
        "read-only); Ctrl-C stops it.",
        markup=False,
        soft_wrap=True,
    )
    try:
        run_web_app(app, host=host, port=port)
    finally:
        project.close()
