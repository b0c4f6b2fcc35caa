"""What infra validation costs: `infra_validate` alone, and `shipyard train` with and without it.

1. `infra_validate` on the penguins classifier (trained once here), 20 one-row requests
   from the eval split: wall time, the server's start-up, the requests' median latency.
2. A cold `shipyard train examples/penguins/data/penguins.csv --label species` in a fresh
   directory (no store, no pushed model), with and without `--infra-validate`, interleaved:
   the wall time a user waits, which decides whether the step is on by default (issue 11's
   cold run must not regress).

The peer, TFX's InfraValidator, loads the model in a TensorFlow Serving container (Docker
or Kubernetes); neither TFX nor TF Serving is installable here, so it is not run.

    python benchmarks/infra_validation.py [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PENGUINS = ROOT / "examples" / "penguins" / "data" / "penguins.csv"
FAST = ["--hidden-units", "16,8", "--epochs", "5"]


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["SHIPYARD_HOME"] = str(home / ".shipyard")
    return env


def train(work: Path, *extra: str) -> float:
    """Run a cold `shipyard train` in `work`; return its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shipyard",
            "train",
            str(PENGUINS),
            "--label",
            "species",
            "--push-to",
            str(work / "models"),
            "--json",
            *extra,
        ],
        cwd=work,
        env=_environment(work),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"shipyard train failed:\n{done.stderr}")
    return seconds


def validate_once(model_dir: Path, work: Path) -> dict[str, Any]:
    """Run `infra_validate` once on the model; return its wall time and what it measured."""
    import pyarrow.csv

    from shipyard.artifacts import Examples, InfraBlessing, Model
    from shipyard.components import infra_validate

    examples = Examples(work / "examples")
    if not examples.splits:
        examples.write_split("eval", pyarrow.csv.read_csv(PENGUINS))
    out = InfraBlessing(work / f"infra-{time.monotonic_ns()}")
    started = time.perf_counter()
    infra_validate.fn(Model(model_dir), out, examples, requests=20)
    seconds = time.perf_counter() - started
    result = out.load()
    if not result.blessed:
        raise SystemExit(f"infra validation failed: {result.problems}")
    return {
        "wall_s": seconds,
        "startup_s": result.startup_s,
        "median_ms": result.latencies_ms["median"],
    }


def main() -> None:
    """Measure and print the figures (medians over the repeats)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-infra-bench-") as directory:
        root = Path(directory)
        (root / "setup").mkdir()
        train(root / "setup", *FAST)
        model_dir = root / "setup" / "models" / "penguins" / "1"
        runs = [validate_once(model_dir, root) for _ in range(args.repeats)]
        cold: dict[str, list[float]] = {"without": [], "with": []}
        for index in range(args.repeats):
            for case, extra in (("without", ()), ("with", ("--infra-validate",))):
                work = root / f"{case}-{index}"
                work.mkdir()
                cold[case].append(train(work, *extra))
    figures = {
        "infra_validate_wall_s": statistics.median(r["wall_s"] for r in runs),
        "server_startup_s": statistics.median(r["startup_s"] for r in runs),
        "request_median_ms": statistics.median(r["median_ms"] for r in runs),
        "cold_train_s": statistics.median(cold["without"]),
        "cold_train_infra_validate_s": statistics.median(cold["with"]),
        "repeats": args.repeats,
        "peer": "TFX InfraValidator (TF Serving in a container): not installable here",
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"median of {args.repeats} runs, {os.cpu_count()} CPUs")
    print(f"infra_validate, 20 requests:           {figures['infra_validate_wall_s']:.2f} s")
    print(f"  of which the server's start-up:      {figures['server_startup_s']:.2f} s")
    print(f"  one request, median:                 {figures['request_median_ms']:.2f} ms")
    print(f"cold shipyard train:                   {figures['cold_train_s']:.2f} s")
    print(f"cold shipyard train --infra-validate:  {figures['cold_train_infra_validate_s']:.2f} s")
    print(f"peer: {figures['peer']}")


if __name__ == "__main__":
    main()
