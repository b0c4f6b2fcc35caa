"""Timing fresh processes, and the table of `benchmarks/pipeline_speed.py`.

Each sample is one process started and waited for: its wall time, its CPU time (user + sys
of the process and of every child it waited for, from `getrusage(RUSAGE_CHILDREN)`), and the
1-minute load average just before and just after it. On a shared machine the CPU time moves
much less than the wall time, so both are kept.

A row of the table summarises one program in one cell (min / median / max of the wall
times, the median CPU time) and checks the row's goal: a ceiling on Shipyard's seconds, or a
ratio to the peer's median (Shipyard at least N times faster than a competitor, or at most N
times a floor such as Polars reading the file).
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from peers.load import median

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

GoalKind = Literal["max_s", "min_speedup", "max_slowdown"]


@dataclass(frozen=True)
class Sample:
    """One timed process."""

    wall_s: float
    cpu_s: float
    load_before: float
    load_after: float


@dataclass(frozen=True)
class Goal:
    """What a row must achieve.

    Attributes:
        kind: `max_s`: Shipyard's median at most `value` seconds; `min_speedup`: the peer's
            median at least `value` times Shipyard's; `max_slowdown`: Shipyard's median at
            most `value` times the peer's (a floor).
        value: The bound.
    """

    kind: GoalKind
    value: float

    def text(self, peer: str) -> str:
        """The goal in words, e.g. `>= 20x faster than tfx`."""
        if self.kind == "max_s":
            return f"<= {self.value:g} s"
        if self.kind == "min_speedup":
            return f">= {self.value:g}x faster than {peer}"
        return f"<= {self.value:g}x {peer}"

    def met(self, ours_s: float, peer_s: float | None) -> bool | None:
        """Whether the medians meet the goal; None when the peer was not measured."""
        if self.kind == "max_s":
            return ours_s <= self.value
        if peer_s is None:
            return None
        if self.kind == "min_speedup":
            return peer_s / ours_s >= self.value
        return ours_s / peer_s <= self.value


class RunFailed(Exception):
    """A timed process failed: the message names the command, the directory and the output."""


@dataclass
class Row:
    """One program's samples in one cell."""

    cell: str
    program: str
    ours: bool
    goal: Goal | None = None
    samples: list[Sample] = field(default_factory=list)
    skipped: str | None = None
    failures: list[str] = field(default_factory=list)


def run_timed(command: Sequence[str], *, cwd: Path, log: Path, timeout_s: float) -> Sample:
    """Run `command` in `cwd` to completion and time it; its output goes to `log`.

    Raises:
        RunFailed: It failed or ran past `timeout_s` (the message names the command, the
            directory and the log, with the log's last lines).
    """
    load_before = os.getloadavg()[0]
    cpu_before = _children_cpu_s()
    started = time.perf_counter()
    with log.open("w") as output:
        try:
            done = subprocess.run(
                list(command),
                cwd=cwd,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                check=False,
            )
            failure = f"exit status {done.returncode}" if done.returncode else None
        except subprocess.TimeoutExpired:
            failure = f"no result within {timeout_s:g} s (--timeout)"
    wall_s = time.perf_counter() - started
    cpu_s = _children_cpu_s() - cpu_before
    if failure:
        tail = log.read_text(errors="replace").splitlines()[-20:]
        raise RunFailed(
            f"{' '.join(command)}\n  in {cwd}: {failure}. Full output: {log}\n"
            + "\n".join(f"  | {line}" for line in tail)
        )
    return Sample(wall_s, cpu_s, load_before, os.getloadavg()[0])


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ours_row(rows: Sequence[Row], cell: str) -> Row | None:
    """Shipyard's row in `cell`, None when it has no samples."""
    for row in rows:
        if row.cell == cell and row.ours and row.samples:
            return row
    return None


def medians(row: Row) -> tuple[float, float]:
    """The row's median wall time and median CPU time."""
    return median([s.wall_s for s in row.samples]), median([s.cpu_s for s in row.samples])


def verdict(row: Row, rows: Sequence[Row]) -> tuple[str, str]:
    """The row's ratio to Shipyard (for a peer; on wall and on CPU medians) and its result:
    PASS, FAIL (a run failed, or the wall medians miss the goal), or `-`."""
    ours = ours_row(rows, row.cell)
    failed = "FAIL" if row.failures else "-"
    if not row.samples or ours is None:
        return "", failed
    (ours_s, ours_cpu_s), (row_s, row_cpu_s) = medians(ours), medians(row)
    ratio = ""
    if not row.ours:
        floor = row.goal is not None and row.goal.kind == "max_slowdown"
        ratio = (
            f"{ours_s / row_s:.2f}x {row.program} (cpu {ours_cpu_s / row_cpu_s:.2f}x)"
            if floor
            else f"{row_s / ours_s:.1f}x faster (cpu {row_cpu_s / ours_cpu_s:.1f}x)"
        )
    if row.goal is None or row.failures:
        return ratio, failed
    met = row.goal.met(ours_s, None if row.ours else row_s)
    return ratio, {True: "PASS", False: "FAIL", None: "-"}[met]


def format_table(rows: Sequence[Row]) -> str:
    """The table: one line per row, wall times, CPU time, ratio, goal, result and load."""
    header = (
        "cell",
        "program",
        "runs",
        "min s",
        "median s",
        "max s",
        "cpu s",
        "shipyard is",
        "goal",
        "result",
        "load before->after",
    )
    lines = [header]
    for row in rows:
        goal = row.goal.text(row.program) if row.goal else ""
        runs = str(len(row.samples)) + (f" ({len(row.failures)} failed)" if row.failures else "")
        ratio, result = verdict(row, rows)
        if not row.samples:
            note = row.skipped or ("failed: see above" if row.failures else "")
            lines.append((row.cell, row.program, runs, "", "", "", "", note, goal, result, ""))
            continue
        walls = [sample.wall_s for sample in row.samples]
        load = f"{row.samples[0].load_before:.2f}->{row.samples[-1].load_after:.2f}"
        lines.append(
            (
                row.cell,
                row.program,
                runs,
                _seconds(min(walls)),
                _seconds(median(walls)),
                _seconds(max(walls)),
                _seconds(median([sample.cpu_s for sample in row.samples])),
                ratio,
                goal,
                result,
                load,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"
