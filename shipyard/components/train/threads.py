"""How many intra-op threads a training uses on the CPU."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from torch import nn

_WORK_PER_THREAD = 2**24  # multiply-adds of a batch's widest layer that pay for a thread


def threads_for(network: nn.Module, batch_size: int) -> int:
    """Intra-op threads worth using: 1 unless a batch's matrix products are large.

    Tabular networks multiply small matrices, where a second thread only adds
    synchronisation, and its spinning halves the speed of anything else on the machine
    (measured: 20x slower steps when another process competes for the cores).
    """
    import torch
    from torch import nn

    widest = max(
        (m.in_features * m.out_features for m in network.modules() if isinstance(m, nn.Linear)),
        default=1,
    )
    wanted = batch_size * widest // _WORK_PER_THREAD
    return max(1, min(torch.get_num_threads(), wanted))


@contextlib.contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """Use `threads` intra-op threads inside the block (None: leave the setting alone)."""
    import torch

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
