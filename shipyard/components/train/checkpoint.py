"""Training checkpoints: the whole training state in one safetensors file, written atomically.

Tensors (the network, the best weights so far, the optimizer's moments, the random generators)
are safetensors; everything else (the epoch, the history, the optimizer's hyperparameters) is
JSON in the file's metadata. No pickle: loading a checkpoint runs no code.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import torch

logger = logging.getLogger("shipyard.components.train")

FILENAME = "training-checkpoint.safetensors"
_STATE_KEY = "shipyard.state"


@dataclass
class Checkpoint:
    """The training state after an epoch.

    Attributes:
        network: The network's state dict.
        optimizer: The optimizer's state dict.
        best: The weights of the best epoch so far (None: not tracked).
        rng: Tensors of random generator states, by name.
        state: Everything else, as JSON (epoch, steps, history, early stopping).
    """

    network: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    best: dict[str, torch.Tensor] | None
    rng: dict[str, torch.Tensor]
    state: dict[str, Any] = field(default_factory=dict)


def save(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write `checkpoint` to `directory` (replacing the previous one in one rename).

    The file is first written under a hidden name unique to this call, then renamed: a
    reader sees the previous checkpoint or this one whole, and two writers never mix.
    """
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for name, tensor in checkpoint.network.items():
        tensors[f"network/{name}"] = tensor
    for name, tensor in (checkpoint.best or {}).items():
        tensors[f"best/{name}"] = tensor
    for name, tensor in checkpoint.rng.items():
        tensors[f"rng/{name}"] = tensor
    moments: dict[str, dict[str, Any]] = {}
    for index, values in checkpoint.optimizer["state"].items():
        moments[str(index)] = {}
        for key, value in values.items():
            if _is_tensor(value):
                tensors[f"optimizer/{index}/{key}"] = value
            else:
                moments[str(index)][key] = value
    state = {
        **checkpoint.state,
        "has_best": checkpoint.best is not None,
        "optimizer_groups": checkpoint.optimizer["param_groups"],
        "optimizer_scalars": moments,
    }
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / FILENAME
    # A name of its own, so that two writers never write into one partial file.
    partial = directory / f".{FILENAME}.{os.getpid()}-{uuid.uuid4().hex[:12]}.partial"
    contiguous = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    try:
        save_file(contiguous, partial, metadata={_STATE_KEY: json.dumps(state)})
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def load(directory: Path) -> Checkpoint | None:
    """Read the checkpoint in `directory`, or None when there is none (or it is unreadable)."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    file = directory / FILENAME
    if not file.is_file():
        return None
    try:
        tensors = load_file(file)
        with safe_open(file, framework="pt") as opened:
            metadata = opened.metadata() or {}
        state = json.loads(metadata[_STATE_KEY])
    except (OSError, KeyError, ValueError, RuntimeError, SafetensorError) as exc:
        logger.warning("ignoring the unreadable checkpoint %s: %s", file, exc)
        return None
    sections: dict[str, dict[str, torch.Tensor]] = {"network": {}, "best": {}, "rng": {}}
    optimizer_state: dict[int, dict[str, Any]] = {
        int(index): dict(values) for index, values in state.pop("optimizer_scalars").items()
    }
    for key, tensor in tensors.items():
        section, _, name = key.partition("/")
        if section == "optimizer":
            index, _, moment = name.partition("/")
            optimizer_state.setdefault(int(index), {})[moment] = tensor
        else:
            sections[section][name] = tensor
    groups = state.pop("optimizer_groups")
    return Checkpoint(
        network=sections["network"],
        optimizer={"state": optimizer_state, "param_groups": groups},
        best=sections["best"] if state.pop("has_best") else None,
        rng=sections["rng"],
        state=state,
    )


def _is_tensor(value: Any) -> bool:
    import torch

    return isinstance(value, torch.Tensor)
