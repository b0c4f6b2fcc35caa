"""Import a function from a Python file the user names in a component's parameters."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

from shipyard.errors import DefinitionError, NotFoundError


def load_function(
    file: Path | str, function: str, *, file_parameter: str, function_parameter: str
) -> Any:
    """Import `function` from the Python file `file` and return it.

    Args:
        file: The file; relative paths were resolved against the pipeline file by the DSL.
        function: The name of the function in it.
        file_parameter: The parameter naming the file, for messages (`run_fn_file`).
        function_parameter: The parameter naming the function, for messages (`run_fn`).

    Raises:
        NotFoundError: The file does not exist.
        DefinitionError: It cannot be imported, or defines no callable of that name.
    """
    path = Path(file)
    if not path.is_file():
        raise NotFoundError(
            f"{file_parameter}: {str(path)!r} does not exist (relative paths are resolved "
            f"against the pipeline file)."
        )
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"_shipyard_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise DefinitionError(f"{path}: cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(module_name, None)
    found = getattr(module, function, None)
    if not callable(found):
        defined = sorted(
            name
            for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module_name
        )
        got = "nothing" if found is None else f"a {type(found).__name__}"
        raise DefinitionError(
            f"{path}: no function {function!r} (got {got}); the functions defined there "
            f"are {', '.join(defined) or 'none'}. Fix {function_parameter}=."
        )
    return found
