"""Cache keys: a node is reused when its code, parameters and input contents are unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.dsl.parameters import has_path
from shipyard.io import fingerprint_path

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shipyard.artifacts import Artifact
    from shipyard.dsl import Node
    from shipyard.io import FingerprintCache


def cache_key(
    node: Node, inputs: Mapping[str, Artifact], *, fingerprints: FingerprintCache | None = None
) -> str:
    """Hash the component's code fingerprint, the parameters, and the inputs' contents.

    Local paths among the parameters count by their content too, so editing a source file
    invalidates the nodes that read it; paths the component writes to (`writes=`) do not.

    Args:
        node: The node about to run.
        inputs: Its input artifacts, by port.
        fingerprints: Where the digests of local files are remembered across processes, so
            an unchanged input file is not read again (None: hash every file).
    """
    external = {
        name: _path_fingerprints(value, fingerprints)
        for name, value in node.parameters.items()
        if has_path(node.component.parameters[name].annotation)
        and name not in node.component.writes
    }
    depends_on = node.component.depends_on
    payload = {
        "component": node.component.fingerprint,
        "parameters": node.parameters,
        "inputs": {port: artifact.fingerprint for port, artifact in sorted(inputs.items())},
        "paths": external,
        "depends_on": None if depends_on is None else depends_on(node.parameters),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _path_fingerprints(value: Any, fingerprints: FingerprintCache | None) -> Any:
    if isinstance(value, list | tuple):
        return [_path_fingerprints(item, fingerprints) for item in value]
    if isinstance(value, dict):
        return {key: _path_fingerprints(item, fingerprints) for key, item in value.items()}
    if isinstance(value, str | Path) and Path(value).exists():
        return fingerprint_path(value, cache=fingerprints)
    return None
