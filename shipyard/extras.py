"""The packaging extras: which optional package each one installs, and the error for a missing one.

`pip install shipyard` is the core: pipelines of your own components, the metadata store,
runs, lineage and the CLI. The extras add the rest, so a serving host carries no training
stack:

    serve     ONNX Runtime and the HTTP server: `shipyard serve`, `shipyard predict`, `shipyard ui`
    data      Polars, DuckDB and Pillow: ingest of SQL, statistics, schema, validation, charts
    train     PyTorch, LightGBM, ONNX and safetensors (and `data`, `serve`): transform, train,
              evaluate, push
    postgres  the PostgreSQL driver for the metadata store
    s3        s3fs: an artifact root on S3 or an S3-compatible store (`s3://bucket/prefix`)
    ray       Ray, Ray Data and Ray Train: the Ray engine, statistics over partitions of
              large data, `train(workers=N)` as a Ray Train TorchTrainer
    kubeflow  the KFP pipeline spec: `shipyard compile --target kubeflow`
    server    argon2 and PyJWT (and `serve`): `shipyard server`, its users, tokens, OIDC login
    all       every extra above

`pyproject.toml` declares the packages; `EXTRA_MODULES` names the modules Shipyard imports
from each (tests/test_extras.py keeps the two in step). This module imports nothing
optional, so it can explain what is missing.
"""

from __future__ import annotations

import importlib.util
import sys

from shipyard.errors import PluginNotInstalled

EXTRA_MODULES: dict[str, dict[str, str]] = {
    "serve": {
        "onnxruntime": "onnxruntime",
        "starlette": "starlette",
        "anyio": "anyio",
        "uvicorn": "uvicorn",
        "httptools": "httptools",
        "prometheus_client": "prometheus-client",
        "orjson": "orjson",
    },
    "data": {"polars": "polars", "duckdb": "duckdb", "PIL": "pillow"},
    "train": {
        "torch": "torch",
        "lightgbm": "lightgbm",
        "onnx": "onnx",
        "safetensors": "safetensors",
    },
    "postgres": {"psycopg": "psycopg"},
    "s3": {"s3fs": "s3fs"},
    "ray": {"ray": "ray"},
    "kubeflow": {"kfp": "kfp-pipeline-spec", "google": "googleapis-common-protos"},
    "server": {"argon2": "argon2-cffi", "jwt": "pyjwt"},
}
"""`{extra: {top-level module: distribution}}` for the optional packages Shipyard imports."""

EXTRA_INCLUDES: dict[str, tuple[str, ...]] = {
    "train": ("data", "serve"),
    "server": ("serve",),
    "all": ("serve", "data", "train", "postgres", "s3", "ray", "kubeflow", "server"),
}
"""Extras that install other extras too."""


def extra_of(module: str) -> str | None:
    """Return the extra that installs the top-level `module` (`torch` -> `train`), or None."""
    top = module.partition(".")[0]
    return next((extra for extra, modules in EXTRA_MODULES.items() if top in modules), None)


def installed_extras() -> list[str]:
    """Return the extras whose packages (and those of the extras they include) are all
    importable here, without importing them."""
    return [extra for extra in EXTRA_MODULES if all(map(_importable, _modules(extra)))]


def missing_extra(
    error: ImportError, *, needed_by: str, extra: str | None = None
) -> PluginNotInstalled | None:
    """Turn the ImportError of a package that an extra installs into an error saying which.

    Args:
        error: The error raised by a failed import.
        needed_by: What needed the package, for the message: `shipyard serve`, `node 'train'`.
        extra: The extra to tell the user to install; default: the one that installs the
            package.

    Returns:
        The error naming the package, the extra and the install command; None when the
        missing module is not one of an extra's (a genuine bug, or the user's own import).

    Example:
        >>> missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"),
        ...               needed_by="shipyard train").message
        'shipyard train needs torch (the "train" extra), which is not installed here. ...'
    """
    module = error.name or ""
    owner = extra_of(module)
    if owner is None:
        return None
    extra = extra or owner
    package = EXTRA_MODULES[owner][module.partition(".")[0]]
    return PluginNotInstalled(
        f'{needed_by} needs {package} (the "{extra}" extra), which is not installed in '
        f"{sys.prefix}: {error}.",
        hint=f'Install it with: pip install "shipyard[{extra}]" (or "shipyard[all]" for '
        f"every extra).",
    )


def require_extra(extra: str, *, needed_by: str) -> None:
    """Check, without importing them, that the packages of `extra` (and those it includes) are
    installed, so a command fails at once rather than part-way through a run.

    Raises:
        PluginNotInstalled: One is missing; the message names it and the install command.
    """
    for module in _modules(extra):
        if not _importable(module):
            missing = ModuleNotFoundError(f"No module named {module!r}", name=module)
            error = missing_extra(missing, needed_by=needed_by, extra=extra)
            assert error is not None  # every module of EXTRA_MODULES has an extra
            raise error


def _modules(extra: str) -> list[str]:
    """The modules of `extra` and of the extras it includes."""
    names = (extra, *EXTRA_INCLUDES.get(extra, ()))
    return [module for name in names for module in EXTRA_MODULES[name]]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
