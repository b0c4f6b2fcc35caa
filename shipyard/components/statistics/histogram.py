"""Equal-width histograms in one pass over the values, whatever the number of buckets.

A histogram with few buckets is counted by comparing the column with each inner edge
(`numeric._at_least`): a handful of vectorized comparisons that run with the column's other
aggregates. Past `COMPARISON_BUCKETS` buckets that would cost O(buckets x rows), so the
bucket of each value is computed instead, as `numpy.histogram` does: from its distance to
the lowest edge, then corrected by one bucket where rounding put it on the wrong side of an
edge, and the buckets counted with `numpy.bincount`. The work is O(rows), done in blocks
that stay in the CPU cache.

Both ways give the same counts: bucket `i` holds the values at least `edges[i]` and below
`edges[i + 1]`, the last bucket its upper edge too; edges too close for the arithmetic
(repeated edges, a range at the limit of float precision) are searched for instead
(`numpy.searchsorted`), which puts a value on repeated edges in the last bucket starting at
it.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

COMPARISON_BUCKETS = 16
"""Histograms with at most this many buckets are counted by comparisons with their edges."""

_BLOCK_ROWS = 1 << 16
# Edges closer than this share of their magnitude may be out of order after rounding.
_RELATIVE_STEP = 2.0**-40


def at_least_counts(
    values: npt.NDArray[np.float64],
    edges: list[float],
    weights: npt.NDArray[np.float64] | None = None,
) -> list[float]:
    """Return, per inner edge, how many values (or how much weight) are at least that edge.

    Args:
        values: Finite values from `edges[0]` to `edges[-1]`, in any order.
        edges: The histogram's edges, non-decreasing, at least two.
        weights: One weight per value, or None to count values.

    Returns:
        `len(edges) - 2` figures: the count (or weight) of the values `>= edges[i]` for
        `i` from 1 to `len(edges) - 2`, as `numeric._at_least` computes them.
    """
    import numpy as np

    buckets = len(edges) - 1
    counts = np.zeros(buckets, dtype=np.float64)
    bounds = np.asarray(edges, dtype=np.float64)
    arithmetic = _arithmetic_safe(edges)
    for start in range(0, len(values), _BLOCK_ROWS):
        block = values[start : start + _BLOCK_ROWS]
        if arithmetic:
            index = _bucket_arithmetic(block, bounds)
        else:
            index = np.searchsorted(bounds, block, side="right") - 1
            np.clip(index, 0, buckets - 1, out=index)
        part = None if weights is None else weights[start : start + _BLOCK_ROWS]
        counts += np.bincount(index, weights=part, minlength=buckets)[:buckets]
    # at least edges[i] = the values of buckets i and above
    suffix = np.cumsum(counts[::-1])[::-1]
    return [float(figure) for figure in suffix[1:]]


def _arithmetic_safe(edges: list[float]) -> bool:
    """Whether a value's bucket, computed from its distance to the lowest edge, is off by at
    most one: the edges strictly increase and a bucket is far wider than their rounding."""
    low, high = edges[0], edges[-1]
    step = (high - low) / (len(edges) - 1)
    increasing = all(a < b for a, b in itertools.pairwise(edges))
    return increasing and math.isfinite(step) and step > _RELATIVE_STEP * max(abs(low), abs(high))


def _bucket_arithmetic(
    block: npt.NDArray[np.float64], bounds: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """Return the bucket of each value: estimated by arithmetic, corrected by the edges."""
    import numpy as np

    buckets = len(bounds) - 1
    scale = buckets / (bounds[-1] - bounds[0])
    index: npt.NDArray[np.intp] = ((block - bounds[0]) * scale).astype(np.intp)
    np.clip(index, 0, buckets - 1, out=index)
    index -= block < bounds[index]
    index += block >= bounds[index + 1]
    np.clip(index, 0, buckets - 1, out=index)
    return index
