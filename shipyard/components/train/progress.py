"""The state of a training between steps, saved to and resumed from its checkpoint.

`TrainingProgress` is what the loop carries from epoch to epoch (early stopping, and the steps
done of an epoch a Ctrl-C interrupted); `save_progress` and `resume_progress` turn it, with the
network, the optimizer and the random generators, into a `checkpoint.Checkpoint` and back.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import ExecutionInterrupted

if TYPE_CHECKING:
    from pathlib import Path

    import torch
    from torch import nn

    from shipyard.components.train.loop import TrainingResult
    from shipyard.components.train.optimizer import StepOptimizer

logger = logging.getLogger("shipyard.components.train")


@dataclass
class TrainingProgress:
    """The early-stopping state carried from epoch to epoch (and through checkpoints)."""

    next_epoch: int = 1
    best_loss: float = math.inf
    best_state: dict[str, Any] | None = None
    patience_left: int | None = None
    finished: bool = False
    epoch_step: int = 0  # steps of `next_epoch` already done (a checkpoint taken mid-epoch)
    epoch_loss: tuple[float, int] = (0.0, 0)  # their summed loss and rows


class StoppedMidEpoch(Exception):
    """The run was asked to stop after `steps` steps of the epoch."""

    def __init__(self, steps: int, loss: tuple[float, int]) -> None:
        super().__init__(steps)
        self.steps = steps
        self.loss = loss


def interrupted(epoch: int, steps: int, directory: Path | None) -> ExecutionInterrupted:
    """The error a training stopped by Ctrl-C raises, once its state is saved in `directory`."""
    where = f"; saved in {directory}" if directory is not None else ""
    return ExecutionInterrupted(
        f"training stopped at epoch {epoch}, step {steps} (the run was interrupted){where}.",
        hint="Run the same command again: training resumes from that step.",
    )


def save_progress(
    directory: Path | None,
    fingerprint: str,
    *,
    network: nn.Module,
    optimizer: StepOptimizer,
    generator: torch.Generator,
    progress: TrainingProgress,
    result: TrainingResult,
) -> None:
    """Save the whole training state in `directory` (replacing the previous checkpoint).

    Without a directory (a training outside a run), nothing is saved.
    """
    import torch

    if directory is None:
        return

    from shipyard.components.train import checkpoint

    checkpoint.save(
        directory,
        checkpoint.Checkpoint(
            network=dict(network.state_dict()),
            optimizer=optimizer.state_dict(),
            best=progress.best_state,
            rng={"shuffle": generator.get_state(), "torch": torch.get_rng_state()},
            state={
                "fingerprint": fingerprint,
                "next_epoch": progress.next_epoch,
                "best_loss": progress.best_loss if math.isfinite(progress.best_loss) else None,
                "patience_left": progress.patience_left,
                "finished": progress.finished,
                "epoch_step": progress.epoch_step,
                "epoch_loss": list(progress.epoch_loss),
                "history": result.history,
                "steps": result.steps,
                "best_epoch": result.best_epoch,
                "stopped_early": result.stopped_early,
            },
        ),
    )


def resume_progress(
    directory: Path,
    fingerprint: str,
    *,
    network: nn.Module,
    optimizer: StepOptimizer,
    generator: torch.Generator,
    result: TrainingResult,
) -> TrainingProgress | None:
    """Restore the state of a matching checkpoint in `directory`; None when there is none."""
    import torch

    from shipyard.components.train import checkpoint

    saved = checkpoint.load(directory)
    if saved is None:
        return None
    if saved.state.get("fingerprint") != fingerprint:
        logger.warning("ignoring the checkpoint in %s: it is of another configuration", directory)
        return None
    device = next((p.device for p in network.parameters()), torch.device("cpu"))
    network.load_state_dict(saved.network)
    optimizer.load_state_dict(saved.optimizer)
    for values in optimizer.state.values():
        for key, value in values.items():
            if isinstance(value, torch.Tensor) and key != "step":
                values[key] = value.to(device)
    generator.set_state(saved.rng["shuffle"])
    torch.set_rng_state(saved.rng["torch"])
    state = saved.state
    result.history = list(state["history"])
    result.steps = int(state["steps"])
    result.best_epoch = int(state["best_epoch"])
    result.stopped_early = bool(state["stopped_early"])
    result.resumed_from_epoch = int(state["next_epoch"]) - 1
    best_loss = state["best_loss"]
    epoch_step = int(state.get("epoch_step", 0))
    loss_sum, loss_rows = state.get("epoch_loss", (0.0, 0))
    logger.info(
        "resuming training after epoch %d%s from %s",
        result.resumed_from_epoch,
        f" and {epoch_step} steps of the next" if epoch_step else "",
        directory,
    )
    return TrainingProgress(
        next_epoch=int(state["next_epoch"]),
        best_loss=math.inf if best_loss is None else float(best_loss),
        best_state=saved.best,
        patience_left=state["patience_left"],
        finished=bool(state["finished"]),
        epoch_step=epoch_step,
        epoch_loss=(float(loss_sum), int(loss_rows)),
    )
