"""The benchmarks' harness modules (`benchmarks/*.py`, `benchmarks/peers/`), importable by
their tests: `benchmarks/` goes on the path, as when a benchmark is run as a script."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))
