"""The `Artifact` base class and the registry of artifact types by name."""

from __future__ import annotations

import html
import sys
from pathlib import Path
from typing import Any, ClassVar

from shipyard.errors import NotFoundError

_TYPES: dict[str, type[Artifact]] = {}
_CLASHES: dict[str, list[type[Artifact]]] = {}


class Artifact:
    """A directory of files produced by one execution and recorded in the metadata store.

    Inside a component an output artifact points at an empty staging directory (`path`); the
    runner publishes it atomically to `uri` once the component returns. Subclasses own their
    codec: `save` writes an in-memory value into `path`, `load` reads it back. No pickle.

    Attributes:
        path: Local directory holding the files.
        uri: Where the artifact is (or will be) published.
        id: Its id in the metadata store, once registered.
        name: Its path `pipeline/run/node/output`, once registered.
        properties: JSON-serialisable facts about the content (row counts, metrics), recorded
            in the store; a component may set them.
        fingerprint: Content fingerprint, once published.
    """

    type_name: ClassVar[str] = "Artifact"

    def __init__(
        self,
        path: str | Path,
        *,
        uri: str | None = None,
        id: int | None = None,
        name: str = "",
        properties: dict[str, Any] | None = None,
        fingerprint: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.uri = uri if uri is not None else str(self.path)
        self.id = id
        self.name = name
        self.properties: dict[str, Any] = dict(properties or {})
        self.fingerprint = fingerprint

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type_name" not in cls.__dict__:
            cls.type_name = cls.__name__
        held = _TYPES.setdefault(cls.type_name, cls)
        if held is not cls:
            if _origin(held) == _origin(cls):  # the same file imported again: the new class
                _TYPES[cls.type_name] = cls
            else:
                _CLASHES.setdefault(cls.type_name, [held]).append(cls)

    def save(self, value: Any) -> None:
        """Write an in-memory value into the artifact's directory.

        The base type is an opaque directory: write files under `path` directly instead.
        """
        raise TypeError(
            f"{self.type_name} is a plain directory and has no codec; write files under "
            f"artifact.path, or use a typed artifact such as Examples or Metrics."
        )

    def load(self) -> Any:
        """Read the artifact's content back as an in-memory value."""
        raise TypeError(
            f"{self.type_name} is a plain directory and has no codec; read files under "
            f"artifact.path instead."
        )

    def required_file(self, filename: str) -> Path:
        """Return the path of a file the artifact must hold, for codecs to read.

        Raises:
            NotFoundError: The artifact has no such file (it is empty or of another kind).
        """
        file = self.path / filename
        if not file.is_file():
            raise NotFoundError(f"{self.uri}: no {filename}; the artifact is empty.")
        return file

    def files(self) -> list[str]:
        """Return the relative paths of the files in the artifact, sorted."""
        if not self.path.is_dir():
            return []
        return sorted(
            str(file.relative_to(self.path)) for file in self.path.rglob("*") if file.is_file()
        )

    def preview(self) -> dict[str, Any]:
        """Return a short JSON-serialisable summary of the content, for the CLI and UI."""
        return {"files": self.files()[:20]}

    def __repr__(self) -> str:
        ident = f" id={self.id}" if self.id is not None else ""
        return f"<{self.type_name}{ident} {self.uri}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(key))}</th>"
            f"<td style='text-align:left'>{html.escape(str(value))}</td></tr>"
            for key, value in {
                "id": self.id,
                "name": self.name,
                "uri": self.uri,
                **self.properties,
            }.items()
            if value not in (None, "")
        )
        return (
            f"<div><b>{html.escape(self.type_name)}</b><table>{rows}</table>"
            f"{self._preview_html()}</div>"
        )

    def _preview_html(self) -> str:
        files = self.files()
        if not files:
            return ""
        items = "".join(f"<li>{html.escape(name)}</li>" for name in files[:20])
        return f"<ul>{items}</ul>"


_TYPES["Artifact"] = Artifact


def clashing_types(type_name: str) -> list[str]:
    """Return the classes that declared `type_name`, when more than one did.

    The store records artifacts by type name, so two classes of one name would read each
    other's artifacts; the first one imported keeps the name.
    """
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in _CLASHES.get(type_name, [])]


def _origin(cls: type) -> tuple[str | None, str]:
    module = sys.modules.get(cls.__module__)
    return getattr(module, "__file__", None) or cls.__module__, cls.__qualname__


def artifact_type(type_name: str) -> type[Artifact]:
    """Return the artifact class registered under `type_name`.

    Types come from Shipyard, from modules already imported, and from the
    `shipyard.artifact_types` entry-point group.

    Raises:
        NotFoundError: No such type is known.
    """
    if type_name not in _TYPES:
        from shipyard.plugins import load_entry_point

        cls = load_entry_point("shipyard.artifact_types", type_name, missing_ok=True)
        if isinstance(cls, type) and issubclass(cls, Artifact):
            _TYPES[type_name] = cls
    try:
        return _TYPES[type_name]
    except KeyError:
        raise NotFoundError(
            f"Unknown artifact type {type_name!r}; known types: {', '.join(sorted(_TYPES))}. "
            f"Import the module that defines it or register it under the "
            f"'shipyard.artifact_types' entry point."
        ) from None
