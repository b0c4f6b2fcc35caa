"""`check_artifact_type`: the conformance suite every `Artifact` type must pass.

Shipyard runs it over its own types in CI; a plugin that registers a type under the
`shipyard.artifact_types` entry point runs it in its own.
"""

from __future__ import annotations

import json
import operator
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import Artifact, artifact_type
from shipyard.artifacts.artifact import clashing_types
from shipyard.errors import ShipyardError

if TYPE_CHECKING:
    from collections.abc import Callable

_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


def check_artifact_type(
    cls: type[Artifact],
    sample: Any,
    *,
    equal: Callable[[Any, Any], bool] = operator.eq,
) -> None:
    """Check that `cls` owns a codec: `save(sample)` then `load()` gives `sample` back.

    Also checked: its type name is its own (no other class declares it, and the registry
    resolves it to `cls`); the saved directory holds no pickle and still loads once moved
    (publishing renames it); `properties` and `preview()` are plain JSON; `load()` of an
    empty artifact returns a value or raises a `ShipyardError` naming it, never a bare
    `OSError` or `KeyError`.

    Args:
        cls: The artifact type.
        sample: A value `cls.save` takes.
        equal: How to compare the loaded value with `sample` (default `==`).

    Raises:
        AssertionError: The type breaks the contract; the message says how.

    Example:
        >>> check_artifact_type(Metrics, {"accuracy": 0.9})
    """
    name = cls.type_name
    assert isinstance(name, str) and name, f"{cls.__qualname__}.type_name must be a non-empty str"
    clashes = clashing_types(name)
    assert not clashes, (
        f"artifact type name {name!r} is declared by {len(clashes)} classes: "
        f"{', '.join(clashes)}. Give each class its own type_name."
    )
    assert artifact_type(name) is cls, (
        f"artifact_type({name!r}) resolves to {artifact_type(name).__qualname__}, not "
        f"{cls.__qualname__}: another class registered the name first."
    )
    with tempfile.TemporaryDirectory(prefix="shipyard-artifact-check-") as tmp:
        root = Path(tmp)
        saved = cls(root / "saved")
        saved.save(sample)
        try:
            loaded = cls(root / "saved").load()
        except Exception as exc:
            raise AssertionError(
                f"{name}: load() after save() raised {type(exc).__name__}: {exc}"
            ) from exc
        assert equal(loaded, sample), (
            f"{name}: load() after save() returned {_short(loaded)}, not the saved value "
            f"{_short(sample)}."
        )
        files = saved.files()
        assert files, f"{name}: save() wrote no file under artifact.path."
        pickled = [f for f in files if f.endswith(_PICKLE_SUFFIXES)]
        assert not pickled, f"{name}: save() wrote pickle files {pickled}; use a plain format."
        _assert_json(saved.properties, f"{name}.properties after save()")
        _assert_json(saved.preview(), f"{name}.preview()")
        shutil.move(root / "saved", root / "moved")
        assert equal(cls(root / "moved").load(), sample), (
            f"{name}: the artifact no longer loads once its directory moved; store paths "
            f"relative to artifact.path."
        )
        empty = cls(root / "empty")
        _assert_json(empty.preview(), f"{name}.preview() of an empty artifact")
        try:
            empty.load()
        except ShipyardError as exc:
            assert empty.uri in str(exc), (
                f"{name}: load() of an empty artifact raised {exc!r}, which does not name it "
                f"({empty.uri})."
            )
        except Exception as exc:
            raise AssertionError(
                f"{name}: load() of an empty artifact raised {type(exc).__name__}: {exc}; "
                f"raise a shipyard.errors error naming the artifact (Artifact.required_file)."
            ) from exc


def _assert_json(value: Any, what: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{what} is not plain JSON: {exc}") from exc


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."
