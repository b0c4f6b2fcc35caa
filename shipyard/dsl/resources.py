"""`Resources`: what one execution of a node needs (CPUs, GPUs, memory).

Declared on a component (`@component(resources=Resources(cpus=2))`) or per node
(`node.with_options(resources=Resources(gpus=1))`). The threads and processes engines run on
this machine and ignore them; the Ray engine asks the cluster for them, and a compiled
Kubeflow pipeline sets them as the task's container resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shipyard.errors import InvalidParameterError

_UNITS = {
    "": 1,
    "k": 1000,
    "m": 1000**2,
    "g": 1000**3,
    "t": 1000**4,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
    "ti": 1024**4,
}
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Resources:
    """What one execution of a node needs.

    Attributes:
        cpus: CPU cores (fractions allowed), or None for the engine's default.
        gpus: GPUs (fractions allowed where the engine shares GPUs), or None for none.
        memory: Memory as bytes or a string with a unit: "512MiB", "4GiB", "2G".

    Example:
        >>> @component(resources=Resources(cpus=2, gpus=1, memory="4GiB"))
        ... def train_big(examples: Examples, model: Out[Model]) -> None: ...
    """

    cpus: float | None = None
    gpus: float | None = None
    memory: int | str | None = None

    def __post_init__(self) -> None:
        for name in ("cpus", "gpus"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value >= 0):
                raise InvalidParameterError(
                    f"Resources({name}={value!r}): must be a number >= 0 (or None)."
                )
        if self.memory is not None:
            memory_bytes(self.memory)  # raises for a malformed value

    @property
    def memory_bytes(self) -> int | None:
        """`memory` in bytes, or None."""
        return None if self.memory is None else memory_bytes(self.memory)

    def to_dict(self) -> dict[str, Any]:
        """As JSON: `{"cpus": 2, "gpus": null, "memory_bytes": 4294967296}`."""
        return {"cpus": self.cpus, "gpus": self.gpus, "memory_bytes": self.memory_bytes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resources:
        return cls(data.get("cpus"), data.get("gpus"), data.get("memory_bytes"))


def memory_bytes(value: int | str) -> int:
    """Parse a memory size: an int of bytes, or "512MiB", "4GiB", "2G", "1.5Gi".

    Raises:
        InvalidParameterError: The value is not a size.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _MEMORY.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidParameterError(
            f"Resources(memory={value!r}): not a size; give bytes or a number with a unit "
            f"such as '512MiB', '4GiB' or '2G'."
        )
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])
