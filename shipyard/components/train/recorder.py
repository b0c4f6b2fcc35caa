"""Record each epoch as it ends: the history, TensorBoard event files, the live display."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from shipyard.components.train.tensorboard import EventWriter
from shipyard.dsl.context import current_task

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    from shipyard.components.train.loop import TrainingResult

logger = logging.getLogger("shipyard.components.train")

_SHOWN = ("train_loss", "eval_loss", "eval_accuracy", "eval_rmse")


class EpochRecorder:
    """An `EpochCallback` keeping the history of every fit and writing it to TensorBoard.

    The TensorBoard step is the epoch's position in the history, so several fits (or a
    `run_fn`'s own `log` calls) follow each other on one axis. Epochs restored from a
    checkpoint are written when the resumed fit reports its first new epoch.

    Args:
        tensorboard_dir: Where the event files go.
        epochs: The planned epochs (for the progress bar), or None.
    """

    def __init__(self, tensorboard_dir: Path, *, epochs: int | None) -> None:
        self.history: list[dict[str, float]] = []
        self.epochs = epochs
        self.tensorboard_dir = tensorboard_dir
        self._writer = EventWriter(tensorboard_dir)
        self._result: TrainingResult | None = None

    def __call__(self, row: dict[str, float], result: TrainingResult) -> None:
        if result is not self._result:
            self._result = result
            for restored in result.history[:-1]:
                self._record(restored)
        self._record(row)
        self._writer.flush()
        shown = {key: row[key] for key in _SHOWN if key in row}
        resumed = result.resumed_from_epoch or None
        current_task().progress(
            len(self.history), self.epochs, unit="epoch", resumed_from=resumed, **shown
        )

    def replay(self, history: list[dict[str, float]]) -> None:
        """Record a finished training's whole history at once (boosted trees)."""
        for row in history:
            self._record(row)
        self._writer.flush()

    def close(self) -> None:
        """Close the event file."""
        self._writer.close()

    def __enter__(self) -> EpochRecorder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _record(self, row: dict[str, float]) -> None:
        self.history.append(dict(row))
        scalars = {key: value for key, value in row.items() if key != "epoch"}
        self._writer.add_scalars(scalars, step=len(self.history))
