"""How well numeric skew/drift separates "same distribution" from "changed distribution".

For each case, two samples are summarised by `compute_dataset_statistics` and compared the
way `validate_examples` compares them (`shipyard.components.drift.distributions`), by the
default comparator of numbers, the Wasserstein distance in standard deviations less its
sampling noise (W), by the population stability index less its sampling noise (PSI), and by
the Jensen-Shannon divergence (JS), the default before. Same-distribution
cases should stay far below the threshold of 0.1; changed ones should exceed it.

    python benchmarks/drift_accuracy.py
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from shipyard.components.drift import distance, distributions
from shipyard.components.ingest import load_dataset
from shipyard.components.statistics import compute_dataset_statistics

if TYPE_CHECKING:
    from collections.abc import Callable

TAXI = Path(__file__).resolve().parents[1] / "examples" / "taxi" / "data"


def measured(first: list[float], second: list[float]) -> tuple[float, float, float]:
    """W, PSI and JS of two samples of one numeric feature, as validation computes them."""
    a = compute_dataset_statistics(pa.table({"x": first})).features["x"]
    b = compute_dataset_statistics(pa.table({"x": second})).features["x"]
    found = distributions(a, b)
    assert found is not None
    return (
        distance(found, "wasserstein"),
        distance(found, "psi"),
        distance(found, "jensen_shannon"),
    )


def taxi(span: int) -> list[float]:
    column = load_dataset(TAXI / f"span-{span}" / "taxi.csv")["distance"].to_pylist()
    return [float(value) for value in column if value is not None]


def cases() -> dict[str, tuple[bool, Callable[[], tuple[list[float], list[float]]]]]:
    """Name -> (whether the distributions really differ, the two samples)."""

    def exponential_split() -> tuple[list[float], list[float]]:
        rng = random.Random(0)
        values = [rng.expovariate(0.3) for _ in range(5000)]
        return values[:4000], values[4000:]

    def outlier() -> tuple[list[float], list[float]]:
        values = [((i * 7919) % 1000 / 1000) ** 4 * 30 for i in range(4000)]
        return values[0::2], [*values[1::2], 60.0]

    def zeros() -> tuple[list[float], list[float]]:
        rng = random.Random(3)
        values = [0.0] * 2000 + [rng.expovariate(1) for _ in range(3000)]
        rng.shuffle(values)
        return values[:2500], values[2500:]

    def taxi_train_eval() -> tuple[list[float], list[float]]:
        values = taxi(2)
        return [v for i, v in enumerate(values) if i % 5], values[0::5]

    def normal_shift() -> tuple[list[float], list[float]]:
        rng = random.Random(3)
        values = [rng.gauss(0, 1) for _ in range(5000)]
        return values[:2500], [v + 1.0 for v in values[2500:]]

    def half_sd() -> tuple[list[float], list[float]]:
        rng = random.Random(4)
        values = [rng.gauss(0, 1) for _ in range(100_000)]
        return values[:50_000], [v + 0.5 for v in values[50_000:]]

    def poisson_shift() -> tuple[list[float], list[float]]:
        import numpy as np

        rng = np.random.default_rng(6)
        before = rng.poisson(10, 50_000).astype(float)
        return list(before), list(rng.poisson(10, 50_000) + 0.5 * np.sqrt(10))

    def small_split() -> tuple[list[float], list[float]]:
        values = [random.Random(5).expovariate(0.3) for _ in range(344)]
        return values[:274], values[274:]

    return {
        "exponential, 4:1 split of one sample": (False, exponential_split),
        "one outlier doubling the range": (False, outlier),
        "40% zeros, same distribution": (False, zeros),
        "taxi distance, train vs eval of span 2": (False, taxi_train_eval),
        "taxi distance, span 1 -> span 2 (x1.6)": (True, lambda: (taxi(1), taxi(2))),
        "exponential, 274 vs 70 rows of one sample": (False, small_split),
        "normal shifted by 1 sd": (True, normal_shift),
        "normal shifted by 0.5 sd (50,000 rows each)": (True, half_sd),
        "Poisson(10) shifted by 0.5 sd (50,000 rows each)": (True, poisson_shift),
    }


def main() -> None:
    print(f"{'case':50} {'changed':>8} {'W':>8} {'PSI':>8} {'JS':>8}")
    for name, (changed, samples) in cases().items():
        w, psi, js = measured(*samples())
        print(f"{name:50} {'yes' if changed else 'no':>8} {w:8.3f} {psi:8.3f} {js:8.3f}")


if __name__ == "__main__":
    main()
