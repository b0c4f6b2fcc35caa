"""Import a user's Python file: a pipeline file, or a file a component's parameter names.

`load_pipeline` does what `shipyard run path/to/pipeline.py` does: the file defines a
`Pipeline` at module level, or a function annotated `-> Pipeline` whose parameters all have
defaults (overridable with `--param key=value`, checked against the function's type hints
and declared limits). `load_function` imports the function a component's parameters name
(`train(run_fn_file=..., run_fn=...)`). Both import through `import_file`, the one loader.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import sys
import traceback
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.dsl.parameters import (
    call_value,
    describe,
    matches,
    parameter_message,
    unsupported_reason,
)
from shipyard.dsl.pipeline import Pipeline
from shipyard.errors import DefinitionError, InvalidParameterError, NotFoundError, ShipyardError

if TYPE_CHECKING:
    import types
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
    chosen = pipeline_definition(path, name=name)
    if isinstance(chosen, Pipeline):
        if params:
            raise InvalidParameterError(
                f"{path}: --param needs a pipeline function; {chosen.name!r} is a Pipeline object."
            )
        return chosen
    built = _call(chosen, dict(params or {}), path)
    built.parameters = _arguments(chosen, params or {})
    return built


def pipeline_definition(
    path: str | Path, *, name: str | None = None
) -> Pipeline | Callable[..., Pipeline]:
    """Import `path` and return the Pipeline or pipeline function `load_pipeline` builds from.

    Raises:
        NotFoundError: The file does not exist or defines no such pipeline.
        DefinitionError: Importing the file failed.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise NotFoundError(f"{path}: no such pipeline file.")
    module = import_file(file)
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
    return chosen


def type_hints(function: Callable[..., Pipeline], path: str | Path) -> dict[str, Any]:
    """The pipeline function's hints, evaluated: files use `from __future__ import annotations`."""
    try:
        return typing.get_type_hints(function, include_extras=True)
    except Exception as exc:
        raise DefinitionError(
            f"{path}: cannot evaluate the type hints of {function.__name__}(): {exc}. Import "
            f"every type its signature names at module level."
        ) from exc


def _checked(
    function: Callable[..., Pipeline],
    annotation: Any,
    name: str,
    params: Mapping[str, Any],
    path: str | Path,
) -> Any:
    """Check a `--param` value against its parameter's type and limits; return what to pass.

    A value typed `str` keeps its text: `-p name=007` gives '007', not 7.
    """
    value = params[name]
    if unsupported_reason(annotation) is not None:
        return value  # a type a parameter cannot declare (a dataclass...): the function decides
    if not matches(annotation, value) and not isinstance(value, str | list | dict):
        text = json.dumps(value)
        if matches(annotation, text):
            value = text
    if not matches(annotation, value):
        raise InvalidParameterError(
            f"{path}: "
            + parameter_message(function.__name__, name, describe(annotation), value)
            + f" Fix --param {name}=..."
        )
    return call_value(annotation, value)


def parse_param(text: str) -> tuple[str, Any]:
    """Parse `key=value` from the command line; the value is JSON if it parses, else a str."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise InvalidParameterError(f"--param takes key=value, got {text!r}.")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def import_file(file: Path) -> types.ModuleType:
    """Import a user's Python file as a module, once per content.

    The module is named after the file's path and content, so a file imported twice
    (by two nodes, or again after an edit) is not shadowed by another of the same name.
    The file's directory goes on `sys.path`, so it imports its neighbours.

    Raises:
        NotFoundError: The file is not Python.
        DefinitionError: Importing it raised; the message keeps the user's frames.
    """
    file = file.resolve()
    digest = hashlib.sha256(str(file).encode() + b"\0" + file.read_bytes()).hexdigest()[:12]
    module_name = f"shipyard_user_{file.stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
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
        del sys.modules[module_name]
        raise
    except Exception as exc:
        del sys.modules[module_name]
        raise DefinitionError(
            f"importing {file} failed: {type(exc).__name__}: {exc}\n{_user_frames(exc)}"
        ) from exc
    return module


def load_function(
    file: Path | str, function: str, *, file_parameter: str, function_parameter: str
) -> Callable[..., Any]:
    """Import `function` from the Python file a component's parameter names.

    Args:
        file: The file; relative paths were resolved against the pipeline file by the DSL.
        function: The name of the function in it.
        file_parameter: The parameter naming the file, for messages (`run_fn_file`).
        function_parameter: The parameter naming the function, for messages (`run_fn`).

    Raises:
        NotFoundError: The file does not exist.
        DefinitionError: It cannot be imported, or defines no callable of that name.

    Example:
        >>> fit = load_function("fit.py", "run_fn", file_parameter="run_fn_file",
        ...                     function_parameter="run_fn")
    """
    path = Path(file)
    if not path.is_file():
        raise NotFoundError(
            f"{file_parameter}: {str(path)!r} does not exist (relative paths are resolved "
            f"against the pipeline file)."
        )
    module = import_file(path)
    found = getattr(module, function, None)
    if not callable(found):
        defined = sorted(
            name
            for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__
        )
        got = "nothing" if found is None else f"a {type(found).__name__}"
        raise DefinitionError(
            f"{path}: no function {function!r} (got {got}); the functions defined there "
            f"are {', '.join(defined) or 'none'}. Fix {function_parameter}=."
        )
    return found  # type: ignore[no-any-return]


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
    hints = type_hints(function, path)
    for param in signature.parameters.values():
        if param.name not in params:
            if param.default is param.empty:
                raise InvalidParameterError(
                    f"{path}: {function.__name__}() needs a value for {param.name!r}; "
                    f"pass --param {param.name}=VALUE."
                )
            continue
        if param.name in hints:
            params[param.name] = _checked(function, hints[param.name], param.name, params, path)
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
