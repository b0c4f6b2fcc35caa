"""The training loop: mini-batches, early stopping on the eval loss, reproducible by seed."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from shipyard.components.train.budget import steps_per_epoch
from shipyard.components.train.schedules import Schedule, lr_factor
from shipyard.dsl.context import current_task
from shipyard.errors import DataError, ExecutionInterrupted

if TYPE_CHECKING:
    from pathlib import Path

    import torch
    from torch import nn

    from shipyard.components.train.data import Problem, Split

logger = logging.getLogger("shipyard.components.train")

Optimizer = Literal["adam", "sgd", "adamw"]
_WORK_PER_THREAD = 2**24  # multiply-adds of a batch's widest layer that pay for a thread

CHECKPOINT_INTERVAL_S = 1.0  # seconds of training between checkpoints: what a kill loses


@dataclass(frozen=True)
class LoopConfig:
    """How to train: optimizer, schedule, batches, epochs, early stopping, seed, device."""

    optimizer: Optimizer = "adam"
    learning_rate: float = 1e-3
    lr_schedule: Schedule = "constant"
    warmup_steps: int = 0
    batch_size: int = 256
    epochs: int = 10
    max_steps: int | None = None
    early_stopping_patience: int | None = 3
    seed: int = 0
    device: str = "auto"
    mixed_precision: bool = False
    threads: int | None = None
    checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S


@dataclass
class TrainingResult:
    """What training produced besides the weights: per-epoch history and final metrics."""

    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    best_epoch: int = 0
    stopped_early: bool = False
    device: str = "cpu"
    resumed_from_epoch: int = 0


EpochCallback = Callable[[dict[str, float], TrainingResult], None]
"""Called after each epoch with its history row (`epoch`, `train_loss`, `eval_loss`, ...)."""


@dataclass
class _Progress:
    """The early-stopping state carried from epoch to epoch (and through checkpoints)."""

    next_epoch: int = 1
    best_loss: float = math.inf
    best_state: dict[str, Any] | None = None
    patience_left: int | None = None
    finished: bool = False
    epoch_step: int = 0  # steps of `next_epoch` already done (a checkpoint taken mid-epoch)
    epoch_loss: tuple[float, int] = (0.0, 0)  # their summed loss and rows


class _StoppedMidEpoch(Exception):  # noqa: N818 -- internal signal, never leaves `_fit`
    """The run was asked to stop after `steps` steps of the epoch."""

    def __init__(self, steps: int, loss: tuple[float, int]) -> None:
        super().__init__(steps)
        self.steps = steps
        self.loss = loss


def pick_device(device: str) -> str:
    """Return `device`, or for `auto` CUDA when available, else CPU."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA) so the same data and seed give the same weights."""
    import torch

    torch.manual_seed(seed)


def total_steps(rows: int, config: LoopConfig) -> int:
    """The optimizer steps training takes without early stopping."""
    steps = config.epochs * steps_per_epoch(rows, config.batch_size)
    return min(steps, config.max_steps) if config.max_steps is not None else steps


def fit(
    network: nn.Module,
    problem: Problem,
    train: Split,
    evaluation: Split | None,
    config: LoopConfig,
    *,
    checkpoint_dir: Path | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainingResult:
    """Train `network` in place; keep the weights of the best eval loss when stopping early.

    With `checkpoint_dir`, the whole training state is saved after the first and the last
    epoch, and in between after the first epoch to end `config.checkpoint_interval_s`
    seconds after the last save (0: every epoch); a checkpoint left there by an interrupted
    call with the same configuration is resumed: the result equals that of an
    uninterrupted call on the same machine.

    When the run is asked to stop (Ctrl-C: `TaskContext.interrupted`), the loop stops before
    its next step, saves the state in the middle of the epoch and raises: the resumed call
    continues from that step and still equals an uninterrupted one.

    Raises:
        DataError: The loss became NaN or infinite (training diverged).
        ExecutionInterrupted: The run was asked to stop (the checkpoint is saved first).
    """
    device = pick_device(config.device)
    with _cpu_threads(_threads_for(network, config) if device == "cpu" else None):
        return _fit(
            network,
            problem,
            train,
            evaluation,
            config,
            device=device,
            checkpoint_dir=checkpoint_dir,
            on_epoch=on_epoch,
        )


def _fit(
    network: nn.Module,
    problem: Problem,
    train: Split,
    evaluation: Split | None,
    config: LoopConfig,
    *,
    device: str,
    checkpoint_dir: Path | None,
    on_epoch: EpochCallback | None,
) -> TrainingResult:
    import torch

    network.to(device)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = _optimizer(network, config)
    schedule = _schedule(train.rows, config)
    features = tuple(t.to(device) for t in train.features)
    target = training_target(problem, train.label).to(device)
    result = TrainingResult(device=device)
    progress = _Progress(patience_left=config.early_stopping_patience)
    fingerprint = _fingerprint(network, config, train.rows)
    if checkpoint_dir is not None:
        progress = (
            _resume(
                checkpoint_dir,
                fingerprint,
                network=network,
                optimizer=optimizer,
                generator=generator,
                result=result,
            )
            or progress
        )
    saved_at: float | None = None
    context = current_task()
    for epoch in range(progress.next_epoch, config.epochs + 1):
        if progress.finished:
            break
        network.train()
        shuffle_state = generator.get_state()  # saved mid-epoch, to draw the same order again
        order = torch.randperm(train.rows, generator=generator).to(device)
        try:
            train_loss = _train_epoch(
                network,
                optimizer,
                schedule=schedule,
                problem=problem,
                features=features,
                target=target,
                order=order,
                epoch=epoch,
                config=config,
                result=result,
                resume=progress,
                stop_requested=context.stop_requested,
            )
        except _StoppedMidEpoch as stopped:
            progress.next_epoch, progress.epoch_step, progress.epoch_loss = (
                epoch,
                stopped.steps,
                stopped.loss,
            )
            if checkpoint_dir is not None:
                generator.set_state(shuffle_state)
                _save(
                    checkpoint_dir,
                    fingerprint,
                    network=network,
                    optimizer=optimizer,
                    generator=generator,
                    progress=progress,
                    result=result,
                )
            where = f"; saved in {checkpoint_dir}" if checkpoint_dir is not None else ""
            raise ExecutionInterrupted(
                f"training stopped at epoch {epoch}, step {stopped.steps} (the run was "
                f"interrupted){where}.",
                hint="Run the same command again: training resumes from that step.",
            ) from None
        progress.epoch_step, progress.epoch_loss = 0, (0.0, 0)
        row: dict[str, float] = {"epoch": epoch, "train_loss": train_loss}
        if evaluation is not None and evaluation.rows:
            row.update(evaluate(network, problem, evaluation, device=device))
            if not math.isfinite(row["eval_loss"]):
                raise DataError(
                    f"training diverged at epoch {epoch}: the eval loss is {row['eval_loss']}; "
                    f"lower the learning rate (now {config.learning_rate})."
                )
        row["learning_rate"] = float(optimizer.param_groups[0]["lr"])
        result.history.append(row)
        logger.info(
            "epoch %d/%d: %s",
            epoch,
            config.epochs,
            ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"),
        )
        _early_stopping(progress, row, network=network, epoch=epoch, config=config, result=result)
        if config.max_steps is not None and result.steps >= config.max_steps:
            progress.finished = True
        progress.next_epoch = epoch + 1
        now = time.monotonic()
        last = progress.finished or epoch == config.epochs
        due = last or saved_at is None or now - saved_at >= config.checkpoint_interval_s
        if checkpoint_dir is not None and due:
            saved_at = now
            _save(
                checkpoint_dir,
                fingerprint,
                network=network,
                optimizer=optimizer,
                generator=generator,
                progress=progress,
                result=result,
            )
        if on_epoch is not None:
            on_epoch(row, result)
    if progress.best_state is not None and config.early_stopping_patience is not None:
        network.load_state_dict(progress.best_state)
    network.to("cpu").eval()
    kept_best = result.best_epoch and config.early_stopping_patience is not None
    final = result.history[result.best_epoch - 1] if kept_best else result.history[-1]
    result.metrics = {k: v for k, v in final.items() if k not in ("epoch", "learning_rate")}
    result.metrics["epochs"] = len(result.history)
    result.metrics["steps"] = result.steps
    return result


def _threads_for(network: nn.Module, config: LoopConfig) -> int:
    """Intra-op threads worth using: 1 unless a batch's matrix products are large.

    Tabular networks multiply small matrices, where a second thread only adds
    synchronisation, and its spinning halves the speed of anything else on the machine
    (measured: 20x slower steps when another process competes for the cores).
    """
    import torch
    from torch import nn

    if config.threads is not None:
        return config.threads
    widest = max(
        (m.in_features * m.out_features for m in network.modules() if isinstance(m, nn.Linear)),
        default=1,
    )
    wanted = config.batch_size * widest // _WORK_PER_THREAD
    return max(1, min(torch.get_num_threads(), wanted))


@contextlib.contextmanager
def _cpu_threads(threads: int | None) -> Iterator[None]:
    """Use `threads` intra-op threads inside the block (None: leave the setting alone)."""
    import torch

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _early_stopping(
    progress: _Progress,
    row: dict[str, float],
    *,
    network: nn.Module,
    epoch: int,
    config: LoopConfig,
    result: TrainingResult,
) -> None:
    """Track the best epoch; mark training finished when patience runs out."""
    monitored = row.get("eval_loss", row["train_loss"])
    if monitored < progress.best_loss - 1e-7:
        progress.best_loss, result.best_epoch = monitored, epoch
        progress.best_state = copy.deepcopy(network.state_dict())
        progress.patience_left = config.early_stopping_patience
    elif progress.patience_left is not None:
        progress.patience_left -= 1
        if progress.patience_left <= 0:
            result.stopped_early = progress.finished = True
            logger.info("early stopping at epoch %d (best epoch %d)", epoch, result.best_epoch)


def _fingerprint(network: nn.Module, config: LoopConfig, rows: int) -> str:
    """What a checkpoint must match to be resumed: the configuration and the shapes."""
    shapes = {name: list(t.shape) for name, t in network.state_dict().items()}
    settings = dataclasses.asdict(config)
    del settings["checkpoint_interval_s"]  # how often to save does not change the result
    return json.dumps({"config": settings, "shapes": shapes, "rows": rows}, sort_keys=True)


def _save(
    directory: Path,
    fingerprint: str,
    *,
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    progress: _Progress,
    result: TrainingResult,
) -> None:
    import torch

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


def _resume(
    directory: Path,
    fingerprint: str,
    *,
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    result: TrainingResult,
) -> _Progress | None:
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
    return _Progress(
        next_epoch=int(state["next_epoch"]),
        best_loss=math.inf if best_loss is None else float(best_loss),
        best_state=saved.best,
        patience_left=state["patience_left"],
        finished=bool(state["finished"]),
        epoch_step=epoch_step,
        epoch_loss=(float(loss_sum), int(loss_rows)),
    )


def _train_epoch(
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    schedule: Callable[[int], float] | None,
    problem: Problem,
    features: tuple[torch.Tensor, ...],
    target: torch.Tensor,
    order: torch.Tensor,
    epoch: int,
    config: LoopConfig,
    result: TrainingResult,
    resume: _Progress,
    stop_requested: Callable[[], bool] | None,
) -> float:
    """Run one pass over the shuffled rows; return the mean train loss.

    Steps a mid-epoch checkpoint had done (`resume.epoch_step`) are skipped.

    Raises:
        _StoppedMidEpoch: The run was asked to stop; raised before a step, never inside one.
    """
    import torch

    skip = resume.epoch_step if resume.next_epoch == epoch else 0
    total, seen = resume.epoch_loss if skip else (0.0, 0)
    batch_norm = _has_batch_norm(network)
    device_type = order.device.type
    precision = torch.bfloat16 if device_type == "cpu" else torch.float16
    scaler = torch.amp.GradScaler(
        device_type, enabled=config.mixed_precision and device_type == "cuda"
    )
    for step, start in enumerate(range(0, int(order.numel()), config.batch_size), start=1):
        if step <= skip:
            continue
        if stop_requested is not None and stop_requested():
            raise _StoppedMidEpoch(step - 1, (total, seen))
        index = order[start : start + config.batch_size]
        if index.numel() < 2 and batch_norm:
            continue
        if schedule is not None:
            rate = config.learning_rate * schedule(result.steps)
            for group in optimizer.param_groups:
                group["lr"] = rate
        optimizer.zero_grad()
        with torch.autocast(device_type, dtype=precision, enabled=config.mixed_precision):
            scores = network(*(f[index] for f in features))
        loss = compute_loss(problem, scores.float(), target[index])
        if not torch.isfinite(loss):
            raise DataError(
                f"training diverged at epoch {epoch} step {step}: loss is "
                f"{float(loss.item())}; lower the learning rate (now "
                f"{config.learning_rate}), or check the features for extreme values."
            )
        scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
        scaler.step(optimizer)
        scaler.update()
        total += float(loss.item()) * int(index.numel())
        seen += int(index.numel())
        result.steps += 1
        if config.max_steps is not None and result.steps >= config.max_steps:
            break
    return total / max(seen, 1)


def evaluate(
    network: nn.Module, problem: Problem, split: Split, *, device: str = "cpu"
) -> dict[str, float]:
    """Return the eval loss and accuracy (classification) or RMSE (regression, label scale)."""
    import torch

    network.eval()
    with torch.no_grad():
        scores = network(*(f.to(device) for f in split.features))
        target = training_target(problem, split.label).to(device)
        loss = float(compute_loss(problem, scores, target).item())
        if problem.task == "regression":
            error = (scores[:, 0] - target) * problem.label_std
            metric = {"eval_rmse": float(torch.sqrt(torch.mean(error**2)).item())}
        else:
            correct = (torch.argmax(scores, dim=1) == target).float().mean()
            metric = {"eval_accuracy": float(correct.item())}
    network.train()
    return {"eval_loss": loss, **metric}


def training_target(problem: Problem, label: torch.Tensor) -> torch.Tensor:
    """Class ids, or the regression label standardized with the train mean and deviation."""
    if problem.task == "regression":
        return (label.float() - problem.label_mean) / problem.label_std
    return label.long()


def compute_loss(problem: Problem, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error on the standardized label, or cross-entropy over the classes."""
    from torch.nn import functional

    if problem.task == "regression":
        return functional.mse_loss(scores[:, 0], target)
    return functional.cross_entropy(scores, target)


def _optimizer(network: nn.Module, config: LoopConfig) -> torch.optim.Optimizer:
    import torch

    parameters = network.parameters()
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.learning_rate, momentum=0.9)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=config.learning_rate)
    return torch.optim.Adam(parameters, lr=config.learning_rate)


def _schedule(rows: int, config: LoopConfig) -> Callable[[int], float] | None:
    """The learning rate's factor by step, or None for a constant rate."""
    if config.lr_schedule == "constant" and config.warmup_steps == 0:
        return None
    return lr_factor(
        config.lr_schedule, total_steps=total_steps(rows, config), warmup_steps=config.warmup_steps
    )


def _has_batch_norm(network: nn.Module) -> bool:
    from torch import nn

    return any(isinstance(m, nn.BatchNorm1d) for m in network.modules())
