"""Training checkpoints: written atomically under names of their own, read back whole."""

from __future__ import annotations

import threading
from pathlib import Path

from shipyard.components.train import checkpoint
from shipyard.components.train.checkpoint import FILENAME, Checkpoint

WRITERS = 8
SAVES = 5


def _checkpoint(epoch: int) -> Checkpoint:
    import torch

    weights = {"layer.weight": torch.full((4, 3), float(epoch))}
    return Checkpoint(
        network=weights,
        optimizer={"state": {}, "param_groups": [{"lr": 0.01, "params": [0]}]},
        best=None,
        rng={"torch": torch.zeros(2)},
        state={"epoch": epoch},
    )


def test_a_checkpoint_reads_back_what_was_saved(tmp_path: Path) -> None:
    checkpoint.save(tmp_path, _checkpoint(7))
    loaded = checkpoint.load(tmp_path)
    assert loaded is not None
    assert loaded.state["epoch"] == 7
    assert float(loaded.network["layer.weight"][0, 0]) == 7.0
    assert [p.name for p in tmp_path.iterdir()] == [FILENAME]


def test_concurrent_writers_never_collide_on_a_temporary_name(tmp_path: Path) -> None:
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        start.wait()
        try:
            for save in range(SAVES):
                checkpoint.save(tmp_path, _checkpoint(writer * SAVES + save))
        except BaseException as exc:  # collected, then asserted on in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    loaded = checkpoint.load(tmp_path)
    assert loaded is not None
    epoch = loaded.state["epoch"]
    assert float(loaded.network["layer.weight"][0, 0]) == float(epoch)  # one writer's, whole
    assert [p.name for p in tmp_path.iterdir()] == [FILENAME]  # no partial file left
