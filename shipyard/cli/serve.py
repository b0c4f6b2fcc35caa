"""`shipyard serve`: serve pushed models with the TensorFlow Serving REST API and KServe V2.

One model: `--model-base-path models/penguins` (the directory holding the version
directories, as in TF Serving); its name defaults to that directory's name (TF Serving's
default is `default`). Several models, version policies, labels, canaries and batching:
`--model-config FILE`. New versions are picked up every `--poll-seconds`. Batching is on with
`--enable-batching` or a `batching` section in the config file; its flags override the file.

A base path that does not exist or holds no version fails at once (TF Serving would wait
silently); `--wait` (with `--wait-timeout-s`) waits for `push` to write a first version.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.serving.config import DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT

if TYPE_CHECKING:
    from shipyard.serving.config import ModelConfig


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
        typer.Option(
            "--intra-op-threads",
            min=0,
            help="ONNX Runtime threads per operator, per worker (default 1: the most "
            "requests per core); 0 lets ONNX Runtime choose (one per core).",
        ),
    ] = 1,
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
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log one line per request (off, as TF Serving).")
    ] = False,
    inline_run_micros: Annotated[
        int,
        typer.Option(
            "--inline-run-micros",
            min=0,
            help="Requests whose model run is estimated (when a version loads) at up to "
            "this many microseconds run on the event loop, costlier ones on a thread; "
            "0: every request on a thread.",
        ),
    ] = 1000,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, help="Processes on the port, each loading the models."),
    ] = 1,
    enable_batching: Annotated[
        bool,
        typer.Option("--enable-batching", help="Batch requests server-side, as TF Serving does."),
    ] = False,
    max_batch_size: Annotated[
        int | None,
        typer.Option(
            "--max-batch-size", min=1, help="Rows per batch (default 256); more run alone."
        ),
    ] = None,
    batch_timeout_micros: Annotated[
        int | None,
        typer.Option(
            "--batch-timeout-micros",
            min=0,
            help="How long a batch waits to fill (default 0: until a batch thread is free).",
        ),
    ] = None,
    num_batch_threads: Annotated[
        int | None,
        typer.Option(
            "--num-batch-threads",
            min=1,
            help="Threads running batches (default: CPU count - 1, at least 1).",
        ),
    ] = None,
    max_enqueued_batches: Annotated[
        int | None,
        typer.Option(
            "--max-enqueued-batches",
            min=1,
            help="Batches waiting per version before requests get 503 (default 100).",
        ),
    ] = None,
    request_log_dir: Annotated[
        Path | None,
        typer.Option(
            "--request-log-dir",
            metavar="DIR",
            help="Log sampled requests and predictions to Parquet files under DIR.",
        ),
    ] = None,
    request_log_sample: Annotated[
        float,
        typer.Option(
            "--request-log-sample", min=0.0, max=1.0, help="The share of requests logged."
        ),
    ] = 1.0,
    request_log_flush_seconds: Annotated[
        float,
        typer.Option(
            "--request-log-flush-seconds", min=0.01, help="Seconds between request-log files."
        ),
    ] = 10.0,
    request_log_max_rows: Annotated[
        int,
        typer.Option(
            "--request-log-max-rows", min=1, help="Rows buffered; past that, rows are dropped."
        ),
    ] = 100_000,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Wait for a first version under each base path, instead of failing at once.",
        ),
    ] = False,
    wait_timeout_s: Annotated[
        float | None,
        typer.Option(
            "--wait-timeout-s",
            min=0.0,
            help="With --wait: give up after this many seconds (default: wait until stopped).",
        ),
    ] = None,
) -> None:
    """Serve models over HTTP until interrupted (TF Serving /v1 and KServe /v2 APIs)."""
    import dataclasses

    from shipyard.errors import InvalidParameterError
    from shipyard.serving.app import serve
    from shipyard.serving.config import (
        BatchingOptions,
        ModelConfig,
        RequestLogOptions,
        RuntimeOptions,
        ServerOptions,
        read_model_config,
    )

    if (model_base_path is None) == (model_config is None):
        raise InvalidParameterError(
            "Pass --model-base-path DIR (one model) or --model-config FILE (several), not "
            "both and not neither."
        )
    batching = None
    if model_config is not None:
        if model_name is not None:
            raise InvalidParameterError("--model-name goes with --model-base-path only.")
        config = read_model_config(model_config.expanduser())
        models, batching = config.models, config.batching
    else:
        assert model_base_path is not None
        base = model_base_path.expanduser().resolve()
        models = (ModelConfig(name=model_name or base.name, base_path=base),)
    if device not in ("auto", "cpu", "cuda"):
        raise InvalidParameterError(f"--device must be auto, cpu or cuda. Got {device!r} instead.")
    flags = {
        "max_batch_size": max_batch_size,
        "batch_timeout_micros": batch_timeout_micros,
        "num_batch_threads": num_batch_threads,
        "max_enqueued_batches": max_enqueued_batches,
    }
    given = {key: value for key, value in flags.items() if value is not None}
    if enable_batching or batching is not None:
        batching = dataclasses.replace(batching or BatchingOptions(), **given)
    elif given:
        flag = "--" + next(iter(given)).replace("_", "-")
        raise InvalidParameterError(
            f"{flag} needs batching on: add --enable-batching (or a 'batching' section in "
            f"the model config)."
        )
    request_log = None
    if request_log_dir is not None:
        request_log = RequestLogOptions(
            directory=request_log_dir.expanduser().resolve(),
            sample=request_log_sample,
            flush_s=request_log_flush_seconds,
            max_buffered_rows=request_log_max_rows,
        )
    if wait_timeout_s is not None and not wait:
        raise InvalidParameterError("--wait-timeout-s goes with --wait; add --wait.")
    _require_versions(models, wait=wait, timeout_s=wait_timeout_s)
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
            batching=batching,
            request_log=request_log,
            workers=workers,
            access_log=access_log,
            inline_run_micros=inline_run_micros,
            model_config=None if model_config is None else model_config.expanduser().resolve(),
        ),
    )


def _require_versions(
    models: tuple[ModelConfig, ...], *, wait: bool, timeout_s: float | None
) -> None:
    """Fail at once when a base path has no version to serve, or wait for one (`--wait`).

    Raises:
        NotFoundError: A base path is missing or holds no version (and not `wait`), or none
            appeared within `timeout_s`.
    """
    import sys

    from shipyard.errors import NotFoundError
    from shipyard.serving.repository import missing_versions, wait_for_versions

    base_paths = {model.name: model.base_path for model in models}
    missing = {name: missing_versions(path) for name, path in base_paths.items()}
    problems = {name: problem for name, problem in missing.items() if problem is not None}
    if not problems:
        return
    if not wait or any(path.exists() and not path.is_dir() for path in base_paths.values()):
        listed = "; ".join(f"model {name!r}: {problem}" for name, problem in problems.items())
        raise NotFoundError(
            f"Nothing to serve: {listed}.",
            hint="Push a model there first (shipyard run PIPELINE.py or shipyard train DATA "
            "--label COLUMN), fix the path, or add --wait to start once a version appears.",
        )

    def announce(name: str, problem: str) -> None:
        limit = "" if timeout_s is None else f" for up to {timeout_s:g} s"
        sys.stderr.write(f"Waiting{limit} for a version of model {name!r}: {problem}.\n")
        sys.stderr.flush()

    wait_for_versions(base_paths, timeout_s=timeout_s, on_wait=announce)
