"""What a worker has and what a job asks for: CPUs, GPUs and memory (bytes).

A job's `resources` (`num_cpus`, `num_gpus`, `memory`: Ray's `entrypoint_num_cpus`...) are
what it holds while it runs; a resource it does not name counts as 0, as in Ray. A worker
advertises its capacity (`shipyard worker --num-cpus --num-gpus --memory`, detected from
the machine by default) and claims only jobs that fit what its running jobs leave free.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["RESOURCES", "Capacity", "detect_capacity", "gpu_devices", "shortfall"]

RESOURCES: Final = ("num_cpus", "num_gpus", "memory")
"""The resources a job may ask for, by the name its `resources` record them under."""
_GIB: Final = 1024**3


@dataclass(frozen=True)
class Capacity:
    """An amount of each resource: what a worker has or has free, or what a job asks for.

    Attributes:
        num_cpus: CPU cores.
        num_gpus: GPUs.
        memory: Bytes of memory.
    """

    num_cpus: float = 0.0
    num_gpus: float = 0.0
    memory: float = 0.0

    @classmethod
    def of(cls, resources: Mapping[str, Any]) -> Capacity:
        """What a job's `resources` ask for (a resource it does not name: 0)."""
        return cls(*(float(resources.get(name) or 0.0) for name in RESOURCES))

    def as_dict(self) -> dict[str, float]:
        """`{"num_cpus": ..., "num_gpus": ..., "memory": ...}`."""
        return {name: float(getattr(self, name)) for name in RESOURCES}

    def holds(self, request: Capacity) -> bool:
        """Whether `request` fits in this amount."""
        return all(getattr(request, name) <= getattr(self, name) for name in RESOURCES)

    def minus(self, used: Iterable[Capacity]) -> Capacity:
        """What is left of this amount once `used` is taken."""
        left = self.as_dict()
        for request in used:
            for name in RESOURCES:
                left[name] -= getattr(request, name)
        return Capacity(**left)


def detect_capacity() -> Capacity:
    """This machine's capacity: the cores this process may use, its CUDA devices
    (`CUDA_VISIBLE_DEVICES` if set, else `nvidia-smi -L`), its physical memory."""
    return Capacity(float(_cpus()), float(_gpus()), float(_memory_bytes()))


def gpu_devices(count: float) -> list[str]:
    """The ids of the `count` GPUs a worker hands to its jobs (`CUDA_VISIBLE_DEVICES`'s
    first ones if set, else 0, 1, ...)."""
    wanted = int(count)
    visible = _visible_devices()
    if visible is not None and len(visible) >= wanted:
        return visible[:wanted]
    return [str(index) for index in range(wanted)]


def shortfall(request: Capacity, workers: Iterable[Capacity]) -> str | None:
    """Why no worker of `workers` (the live ones) could ever run a job asking `request`.

    Returns:
        `needs 2 GPUs; the largest live worker has 0`, or None if one could (or there is
        no live worker to judge by).
    """
    offered = list(workers)
    if not offered or any(worker.holds(request) for worker in offered):
        return None
    for name in RESOURCES:
        largest = max(getattr(worker, name) for worker in offered)
        if getattr(request, name) > largest:
            return (
                f"needs {_amount(name, getattr(request, name))}; the largest live worker has "
                f"{_amount(name, largest, unit=False)}"
            )
    asked = ", ".join(_amount(n, getattr(request, n)) for n in RESOURCES if getattr(request, n))
    return f"needs {asked}; no live worker has all of it at once"


def _amount(name: str, value: float, *, unit: bool = True) -> str:
    if name == "memory":
        return f"{value / _GIB:.1f} GiB of memory" if unit else f"{value / _GIB:.1f} GiB"
    number = f"{value:g}"
    if not unit:
        return number
    noun = "CPU" if name == "num_cpus" else "GPU"
    return f"{number} {noun}" if value == 1 else f"{number} {noun}s"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _visible_devices() -> list[str] | None:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return None
    return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]


def _gpus() -> int:
    visible = _visible_devices()
    if visible is not None:
        return len(visible)
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        listed = subprocess.run(
            [smi, "-L"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listed.splitlines() if line.startswith("GPU "))


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0
