"""Load a `Pipeline` from a user's Python file, as `shipyard run path/to/pipeline.py` does.

The file defines a `Pipeline` at module level, or a function annotated `-> Pipeline` whose
parameters all have defaults (overridable with `--param key=value`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.dsl.parameters import describe, matches, parameter_message
from shipyard.dsl.pipeline import Pipeline
from shipyard.errors import DefinitionError, InvalidParameterError, NotFoundError, ShipyardError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


def load_pipeline(
    path: str | Path, *, name: str | None = None, params: Mapping[str, Any] | None = None
) -> Pipeline:
    """Import `path` and build the pipeline it defines.

    Args:
        path: The pipeline file.
        name: Which pipeline or pipeline function, when the file defines several.
        params: Arguments for a pipeline function.

    Raises:
        NotFoundError: The file does not exist or defines no such pipeline.
        DefinitionError: Importing the file failed, or the pipeline is wired wrongly.
        InvalidParameterError: `params` do not fit the pipeline function.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise NotFoundError(f"{path}: no such pipeline file.")
    module = _import_file(file)
    candidates = _candidates(module)
    if name is not None:
        if name not in candidates:
            raise NotFoundError(
                f"{path}: no pipeline or pipeline function named {name!r}; found "
                f"{', '.join(candidates) or 'none'}."
            )
        chosen = candidates[name]
    elif len(candidates) == 1:
        chosen = next(iter(candidates.values()))
    else:
        found = ", ".join(candidates) or "none"
        raise NotFoundError(
            f"{path}: expected one Pipeline or one function returning a Pipeline, found {found}.",
            hint="Pick one with --pipeline NAME."
            if candidates
            else "Define `pipeline = Pipeline(...)` or `def my_pipeline() -> Pipeline:`.",
        )
    if isinstance(chosen, Pipeline):
        if params:
            raise InvalidParameterError(
                f"{path}: --param needs a pipeline function; {chosen.name!r} is a Pipeline object."
            )
        return chosen
    built = _call(chosen, dict(params or {}), path)
    built.parameters = _arguments(chosen, params or {})
    return built


def parse_param(text: str) -> tuple[str, Any]:
    """Parse `key=value` from the command line; the value is JSON if it parses, else a str."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise InvalidParameterError(f"--param takes key=value, got {text!r}.")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _import_file(file: Path) -> Any:
    digest = hashlib.sha256(str(file).encode()).hexdigest()[:12]
    module_name = f"shipyard_pipeline_{file.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise NotFoundError(f"{file}: cannot import this file as Python.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    if str(file.parent) not in sys.path:
        sys.path.insert(0, str(file.parent))
    try:
        spec.loader.exec_module(module)
    except ShipyardError:
        raise
    except Exception as exc:
        del sys.modules[module_name]
        raise DefinitionError(
            f"importing {file} failed: {type(exc).__name__}: {exc}\n{_user_frames(exc)}"
        ) from exc
    return module


def _user_frames(exc: BaseException) -> str:
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in frame.filename and "/shipyard/dsl/" not in frame.filename
    ]
    return "".join(traceback.format_list(frames))


def _arguments(function: Callable[..., Pipeline], params: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments a pipeline function was called with, defaults included, as JSON values."""
    bound = inspect.signature(function).bind_partial(**params)
    bound.apply_defaults()
    return dict(json.loads(json.dumps(bound.arguments, default=str)))


def _candidates(module: Any) -> dict[str, Pipeline | Callable[..., Pipeline]]:
    found: dict[str, Pipeline | Callable[..., Pipeline]] = {}
    for attr, value in vars(module).items():
        if isinstance(value, Pipeline):
            found[value.name if value.name not in found else attr] = value
        elif inspect.isfunction(value) and value.__module__ == module.__name__:
            returns = inspect.signature(value).return_annotation
            if returns is Pipeline or returns == "Pipeline":
                found[attr] = value
    return found


def _call(function: Callable[..., Pipeline], params: dict[str, Any], path: str | Path) -> Pipeline:
    signature = inspect.signature(function)
    unknown = sorted(set(params) - set(signature.parameters))
    if unknown:
        raise InvalidParameterError(
            f"{path}: {function.__name__}() has no parameter {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(signature.parameters) or 'none'}."
        )
    for param in signature.parameters.values():
        if param.name not in params and param.default is param.empty:
            raise InvalidParameterError(
                f"{path}: {function.__name__}() needs a value for {param.name!r}; "
                f"pass --param {param.name}=VALUE."
            )
        annotation = param.annotation
        if param.name in params and annotation is not param.empty and isinstance(annotation, type):
            value = params[param.name]
            if annotation is str and not isinstance(value, str):
                params[param.name] = value = json.dumps(value)
            if not matches(annotation, value):
                raise InvalidParameterError(
                    parameter_message(function.__name__, param.name, describe(annotation), value)
                )
    try:
        pipeline = function(**params)
    except ShipyardError:
        raise
    except Exception as exc:
        raise DefinitionError(
            f"{path}: {function.__name__}() raised {type(exc).__name__}: {exc}\n{_user_frames(exc)}"
        ) from exc
    if not isinstance(pipeline, Pipeline):
        raise DefinitionError(
            f"{path}: {function.__name__}() must return a Pipeline, got {type(pipeline).__name__}."
        )
    return pipeline
