"""Where a task may run on a Ray cluster: its resource request, and whether any node can take it.

A node's `Resources` become the Ray task's `num_cpus`, `num_gpus` and `memory` (default: one
CPU, as Ray's own default). Ray keeps a task that no node can ever hold pending forever (an
autoscaler might add a node); a pipeline would hang, so the engine refuses such a task at once,
naming the node, what it asks for and what the cluster's largest nodes offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import PlatformError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from shipyard.dsl.resources import Resources

_GIB = 1024**3


@dataclass(frozen=True)
class Request:
    """What one Ray task asks for: CPUs, GPUs and bytes of memory."""

    cpus: float = 1.0
    gpus: float = 0.0
    memory_bytes: int = 0

    @classmethod
    def of(cls, resources: Resources | None) -> Request:
        """The request for a node's declared resources (None: one CPU)."""
        if resources is None:
            return cls()
        return cls(
            1.0 if resources.cpus is None else float(resources.cpus),
            0.0 if resources.gpus is None else float(resources.gpus),
            resources.memory_bytes or 0,
        )

    def options(self) -> dict[str, Any]:
        """The request as options of `ray.remote(...).options(...)`."""
        options: dict[str, Any] = {"num_cpus": self.cpus, "num_gpus": self.gpus}
        if self.memory_bytes:
            options["memory"] = self.memory_bytes
        return options

    def fits(self, offered: Mapping[str, float]) -> bool:
        """Whether a node offering `offered` (Ray's resource names) can ever hold it."""
        return (
            offered.get("CPU", 0.0) >= self.cpus
            and offered.get("GPU", 0.0) >= self.gpus
            and offered.get("memory", 0.0) >= self.memory_bytes
        )

    def describe(self) -> str:
        """`3 CPUs, 1 GPU, 4.0 GiB memory`: what it asks for."""
        return _describe(
            {"CPU": self.cpus, "GPU": self.gpus, "memory": float(self.memory_bytes)},
            memory=self.memory_bytes > 0,
        )


def infeasible(
    node: str, request: Request, nodes: Sequence[Mapping[str, float]], *, cluster: str
) -> PlatformError | None:
    """The error for a task that no alive node of the cluster can hold, or None.

    Args:
        node: The pipeline node, for the message.
        request: What its task asks for.
        nodes: The resources each alive node of the cluster offers (`ray.nodes()`).
        cluster: The cluster's address, for the message.
    """
    if any(request.fits(offered) for offered in nodes):
        return None
    largest = sorted(nodes, key=lambda o: (o.get("CPU", 0.0), o.get("GPU", 0.0)), reverse=True)
    offers = "; ".join(_describe(offered, memory=True) for offered in largest[:3]) or "nothing"
    return PlatformError(
        f"Node {node!r} asks the Ray cluster at {cluster} for {request.describe()}, which no "
        f"node of it can hold ({len(nodes)} alive; the largest offer {offers}).",
        hint="Lower the node's resources (@component(resources=Resources(...)) or "
        "node.with_options(resources=...)), or add a node that large to the cluster.",
    )


def _describe(offered: Mapping[str, float], *, memory: bool) -> str:
    parts = [_count(offered.get("CPU", 0.0), "CPU"), _count(offered.get("GPU", 0.0), "GPU")]
    if memory:
        parts.append(f"{offered.get('memory', 0.0) / _GIB:.1f} GiB memory")
    return ", ".join(parts)


def _count(value: float, unit: str) -> str:
    number = f"{value:g}"
    return f"{number} {unit}" if value == 1 else f"{number} {unit}s"
