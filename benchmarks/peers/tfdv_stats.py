"""TFDV's statistics of a CSV, the peer of `shipyard stats` in `benchmarks/pipeline_speed.py`.

Runs in the TFX 1.16 venv (Python 3.10) that `tfx_env.py` builds, where TFDV 1.16 comes with
TFX:

    python tfdv_stats.py DATA.csv OUT.tfrecord

`tfdv.generate_statistics_from_csv` with its defaults (Apache Beam's DirectRunner), the call
TFDV's guide starts with; the statistics are written to OUT and their feature count printed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    """Compute the statistics of one CSV; exit non-zero when it cannot be read."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the CSV, with a header line")
    parser.add_argument("out", type=Path, help="where the statistics (TFRecord) go")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(
            f"{args.data}: no such file. Generate it with benchmarks/statistics_speed.py."
        )

    import tensorflow_data_validation as tfdv

    statistics = tfdv.generate_statistics_from_csv(
        data_location=str(args.data), output_path=str(args.out)
    )
    features = len(statistics.datasets[0].features)
    print(f"{features} features, {statistics.datasets[0].num_examples} examples")


if __name__ == "__main__":
    main()
