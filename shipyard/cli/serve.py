"""`shipyard serve`: serve pushed models with the TensorFlow Serving REST API and KServe V2.

One model: `--model-base-path models/penguins` (the directory holding the version
directories, as in TF Serving); its name defaults to that directory's name (TF Serving's
default is `default`). Several models, version policies and labels: `--model-config FILE`.
New versions are picked up every `--poll-seconds`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.serving.config import DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT


def serve_command(
    model_base_path: Annotated[
        Path | None,
        typer.Option(
            "--model-base-path",
            metavar="DIR",
            help="The model's directory of integer version directories (BASE/NAME).",
        ),
    ] = None,
    model_name: Annotated[
        str | None,
        typer.Option(
            "--model-name", help="The name in URLs. Default: the base path's directory name."
        ),
    ] = None,
    model_config: Annotated[
        Path | None,
        typer.Option(
            "--model-config",
            metavar="FILE",
            help="YAML or JSON (models: [...]) or a TF Serving model_config_list file.",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="The interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = DEFAULT_PORT,
    poll_seconds: Annotated[
        float,
        typer.Option(
            "--poll-seconds", min=0.0, help="Seconds between scans for new versions; 0: once."
        ),
    ] = 2.0,
    intra_op_threads: Annotated[
        int,
        typer.Option("--intra-op-threads", min=0, help="ONNX Runtime threads per operator."),
    ] = 0,
    inter_op_threads: Annotated[
        int,
        typer.Option("--inter-op-threads", min=0, help="ONNX Runtime threads across operators."),
    ] = 0,
    device: Annotated[
        str, typer.Option("--device", help="auto (CUDA when available), cpu or cuda.")
    ] = "auto",
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", min=1, help="Larger request bodies get 413.")
    ] = DEFAULT_MAX_BODY_BYTES,
) -> None:
    """Serve models over HTTP until interrupted (TF Serving /v1 and KServe /v2 APIs)."""
    import logging

    from shipyard.errors import InvalidParameterError
    from shipyard.serving.app import serve
    from shipyard.serving.config import (
        ModelConfig,
        RuntimeOptions,
        ServerOptions,
        read_model_config,
    )

    if (model_base_path is None) == (model_config is None):
        raise InvalidParameterError(
            "Pass --model-base-path DIR (one model) or --model-config FILE (several), not "
            "both and not neither."
        )
    if model_config is not None:
        if model_name is not None:
            raise InvalidParameterError("--model-name goes with --model-base-path only.")
        models = read_model_config(model_config.expanduser())
    else:
        assert model_base_path is not None
        base = model_base_path.expanduser().resolve()
        models = (ModelConfig(name=model_name or base.name, base_path=base),)
    if device not in ("auto", "cpu", "cuda"):
        raise InvalidParameterError(f"--device must be auto, cpu or cuda. Got {device!r} instead.")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    serve(
        models,
        ServerOptions(
            host=host,
            port=port,
            poll_s=poll_seconds,
            max_body_bytes=max_body_bytes,
            runtime=RuntimeOptions(
                intra_op_threads=intra_op_threads,
                inter_op_threads=inter_op_threads,
                device=device,  # type: ignore[arg-type]  # checked above
            ),
        ),
    )
