"""The `ModelRun` artifact: how a training went, epoch by epoch (TFX's ModelRun).

Layout: `history.json` (one row per epoch: `epoch`, `train_loss`, `eval_loss`,
`eval_accuracy` or `eval_rmse`, `learning_rate`) and `tensorboard/`, TensorBoard event files
of the same scalars: `tensorboard --logdir <path>/tensorboard` shows the curves.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shipyard.artifacts.artifact import Artifact

if TYPE_CHECKING:
    from pathlib import Path


class ModelRun(Artifact):
    """A training's history and TensorBoard logs.

    Example:
        >>> run.history()[-1]["eval_loss"]
        >>> print(f"tensorboard --logdir {run.tensorboard_dir}")
    """

    HISTORY_FILENAME = "history.json"
    TENSORBOARD_DIRNAME = "tensorboard"

    @property
    def tensorboard_dir(self) -> Path:
        """The directory of the TensorBoard event files."""
        return self.path / self.TENSORBOARD_DIRNAME

    def save(self, history: list[dict[str, float]]) -> None:
        """Write the per-epoch history; record the epochs and the last row in `properties`."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / self.HISTORY_FILENAME).write_text(
            json.dumps(history, indent=1), encoding="utf-8"
        )
        self.properties.update(epochs=len(history), last=history[-1] if history else {})

    def load(self) -> list[dict[str, float]]:
        """Read the per-epoch history back: what `save` wrote.

        Raises:
            NotFoundError: The artifact holds no history.
        """
        return self.history()

    def history(self) -> list[dict[str, float]]:
        """Read the per-epoch history back.

        Raises:
            NotFoundError: The artifact holds no history.
        """
        file = self.required_file(self.HISTORY_FILENAME)
        rows: list[dict[str, float]] = json.loads(file.read_text(encoding="utf-8"))
        return rows

    def preview(self) -> dict[str, Any]:
        """The number of epochs, the last row, the TensorBoard directory, and the whole
        history (`history`, one row per epoch: what the UI draws its curves from)."""
        if not (self.path / self.HISTORY_FILENAME).is_file():
            return {}
        rows = self.history()
        return {
            "epochs": len(rows),
            "last": rows[-1] if rows else {},
            "tensorboard": str(self.tensorboard_dir),
            "history": rows,
        }
