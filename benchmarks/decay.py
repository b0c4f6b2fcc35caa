"""Decay detection: labels joined to a day of request logs, against a Polars floor.

Writes (once, into `benchmarks/.data/decay/`) 24 hourly request-log files of `--rows` rows
each in the server's layout (`DIR/taxi/3/*.parquet`: timestamp, model, version, request_id,
5 numeric features, class_ids, class_labels, probabilities; two rows per request) and one
label file (`DIR/taxi/feedback/`) labelling `--labelled` of the requests' rows. The model is
right on 90% of the labelled rows in the first 12 hours and on 75% in the last 12: a decay
of accuracy (0.15, tolerance 0.05) that only the last 12 windows should report.

    shipyard   shipyard.monitoring.decay.measure_decay over every file: read the labels,
               stream each file's request ids against them, join by (request id, row),
               compute the evaluate metrics (accuracy, AUC, log loss) per window
    polars     the floor: scan request_id, timestamp and class_ids of every file, join the
               labels by request id and row (a cumulative count per id), and compute the
               accuracy per window in one lazy query

Each side runs `--repeats` times, taking turns; the figures are medians of wall time, and
the peak RSS of each side is measured in a fresh process. The confusion table counts the
windows flagged against the windows that decayed.

    python benchmarks/decay.py [--rows 50000] [--labelled 0.1] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parent / ".data" / "decay"
HOUR_US = 3_600_000_000
T0 = 1_767_225_600_000_000
NAMES = ["no", "yes"]
EVALUATED = {"accuracy": 0.9, "auc": 0.9, "log_loss": 0.35}


def write_data(root: Path, rows: int, labelled: float) -> Path:
    """Write the logs and the labels once; return the log directory."""
    logs = root / f"{rows}-{labelled}"
    if (logs / "taxi" / "feedback").exists():
        return logs
    rng = np.random.default_rng(0)
    ids, row_index, labels = [], [], []
    for hour in range(24):
        times = T0 + hour * HOUR_US + np.sort(rng.integers(0, HOUR_US, rows))
        predicted = rng.integers(0, 2, rows)
        score = np.clip(rng.normal(0.75, 0.15, rows), 0.5, 1.0)
        positive = np.where(predicted == 1, score, 1 - score)
        request = np.array([f"h{hour}-{i // 2}" for i in range(rows)], dtype=object)
        table = {
            "timestamp": pa.array(times, pa.timestamp("us", tz="UTC")),
            "model": pa.array(["taxi"] * rows),
            "version": pa.array(np.full(rows, 3, dtype=np.int64)),
            "request_id": pa.array(request, pa.string()),
            **{f"x{j}": rng.normal(0, 1, rows) for j in range(5)},
            "class_ids": pa.FixedSizeListArray.from_arrays(pa.array(predicted), 1),
            "class_labels": pa.array([NAMES[p] for p in predicted]),
            "probabilities": pa.FixedSizeListArray.from_arrays(
                pa.array(np.column_stack([1 - positive, positive]).ravel().astype(np.float32)), 2
            ),
        }
        directory = logs / "taxi" / "3"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(table), directory / f"20260101T{hour:02d}0000000000Z-1-1.parquet")
        chosen = np.flatnonzero(rng.random(rows) < labelled)
        right = rng.random(len(chosen)) < (0.9 if hour < 12 else 0.75)
        truth = np.where(right, predicted[chosen], 1 - predicted[chosen])
        ids += request[chosen].tolist()
        row_index += (chosen % 2).tolist()
        labels += [NAMES[t] for t in truth]
    from shipyard.monitoring.feedback import labels_from_json, write_labels

    items = [
        {"request_id": i, "row": r, "label": label}
        for i, r, label in zip(ids, row_index, labels, strict=True)
    ]
    write_labels(logs, "taxi", labels_from_json({"feedback": items}))
    return logs


def run_shipyard(logs: Path) -> tuple[float, list[int]]:
    """Measure decay; return the seconds and the hours of the windows flagged."""
    from fsspec.implementations.local import LocalFileSystem

    from shipyard.artifacts import EvaluationResult
    from shipyard.monitoring.decay import DecayOptions, measure_decay
    from shipyard.monitoring.feedback import feedback_files
    from shipyard.monitoring.sources import list_files

    evaluation = EvaluationResult(
        {"task": "binary", "class_labels": NAMES, "positive_class": "yes", "metrics": EVALUATED}
    )
    started = time.perf_counter()
    _, files = list_files(str(logs))
    options = DecayOptions(find_evaluation=lambda model, version: (evaluation, "evaluation"))
    report = measure_decay(
        LocalFileSystem(), files, feedback_files(str(logs)), options, window_us=HOUR_US
    )
    seconds = time.perf_counter() - started
    flagged = [
        (w.start_us - T0) // HOUR_US
        for w in report.windows
        if any(f.column.endswith(":accuracy") for f in w.findings)
    ]
    return seconds, flagged


def run_polars(logs: Path) -> tuple[float, list[int]]:
    """The floor: the accuracy per window in one lazy Polars query."""
    import polars as pl

    started = time.perf_counter()
    labels = pl.scan_parquet(str(logs / "taxi" / "feedback" / "*.parquet")).select(
        "request_id", "row", "label"
    )
    logged = (
        pl.scan_parquet(str(logs / "taxi" / "3" / "*.parquet"))
        .select("timestamp", "request_id", pl.col("class_ids").arr.first().alias("predicted"))
        .with_columns(pl.int_range(pl.len()).over("request_id").alias("row"))
    )
    windows = (
        logged.join(labels, on=["request_id", "row"])
        .with_columns(
            pl.col("timestamp").dt.truncate("1h").alias("window"),
            (
                pl.col("label")
                == pl.when(pl.col("predicted") == 1).then(pl.lit("yes")).otherwise(pl.lit("no"))
            ).alias("right"),
        )
        .group_by("window")
        .agg(pl.col("right").mean().alias("accuracy"))
        .sort("window")
        .collect()
    )
    seconds = time.perf_counter() - started
    flagged = [
        hour
        for hour, accuracy in enumerate(windows["accuracy"].to_list())
        if accuracy < EVALUATED["accuracy"] - 0.05
    ]
    return seconds, flagged


def peak_rss_mb(side: str, logs: Path) -> float:
    """Run one side in a fresh process; return its peak RSS in MB."""
    # VmHWM, not ru_maxrss: Linux carries a parent's maxrss over fork and exec into a child.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import decay; from pathlib import Path; "
        "getattr(decay, 'run_' + sys.argv[2])(Path(sys.argv[3])); "
        "print([line.split()[1] for line in open('/proc/self/status') "
        "if line.startswith('VmHWM')][0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), side, str(logs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=50_000, help="rows per hourly log file")
    parser.add_argument("--labelled", type=float, default=0.1, help="share of rows labelled")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    logs = write_data(DATA, args.rows, args.labelled)
    times: dict[str, list[float]] = {"shipyard": [], "polars": []}
    flagged: dict[str, list[int]] = {}
    for _ in range(args.repeats):
        for side, run in (("shipyard", run_shipyard), ("polars", run_polars)):
            seconds, flagged[side] = run(logs)
            times[side].append(seconds)
    labels = pq.read_metadata(next((logs / "taxi" / "feedback").glob("*.parquet"))).num_rows
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"{machine}; 24 files x {args.rows:,} rows, {labels:,} labels")
    print("| side | median s | runs (s) | peak RSS MB | windows flagged (decayed: 12-23) |")
    print("|---|---|---|---|---|")
    for side, runs in times.items():
        shown = ", ".join(f"{t:.2f}" for t in runs)
        rss = peak_rss_mb(side, logs)
        hits = flagged[side]
        print(f"| {side} | {statistics.median(runs):.2f} | {shown} | {rss:.0f} | {hits} |")
    decayed = set(range(12, 24))
    for side, hits in flagged.items():
        found = set(hits)
        right, wrong = len(found & decayed), len(found - decayed)
        print(f"{side}: decayed windows flagged {right}/12, healthy windows flagged {wrong}/12")


if __name__ == "__main__":
    main()
