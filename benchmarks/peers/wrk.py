"""The other load generator of `benchmarks/serving.py`: wrk, with a Lua script for POST bodies.

wrk (https://github.com/wg/wrk) is a C load generator on epoll: `--load wrk` runs each cell
with one wrk thread (`-t1`) and `concurrency` connections (`-c`), each sending its next
request when the last is answered, as the Python generator does. The script reads the
request bodies from a file, one per line, formats every request once, and sends them in
turn; wrk's `--latency` report gives p50 and p99, its summary the requests/s and the
non-2xx answers and socket errors (counted as errors). A warm-up run of `warmup_s` comes
first and is not counted. Install it with `apt-get install wrk` (Debian, Ubuntu) or
`brew install wrk` (macOS).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from peers.load import Cell, cpu_s

_SCRIPT = """
local requests = {}
local turn = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local headers = {["Content-Type"] = "application/json"}
  for body in file:read("*a"):gmatch("[^\\n]+") do
    requests[#requests + 1] = wrk.format("POST", wrk.path, headers, body)
  end
  file:close()
end

function request()
  turn = turn + 1
  return requests[(turn - 1) % #requests + 1]
end
"""
_SOCKET_ERRORS = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def wrk_path() -> str:
    """The wrk executable.

    Raises:
        SystemExit: wrk is not installed (the message says how to install it).
    """
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(
            "--load wrk needs wrk on PATH: apt-get install wrk (Debian, Ubuntu) or "
            "brew install wrk (macOS)."
        )
    return found


def run_wrk_cell(
    port: int,
    path: str,
    bodies: list[bytes],
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    server_pids: list[int],
) -> Cell:
    """Run one cell with wrk: a warm-up, then `duration_s` seconds measured.

    Raises:
        SystemExit: wrk failed, or printed a report this function cannot read.
    """
    if any(b"\n" in body for body in bodies):
        raise SystemExit("wrk bodies are read one per line: encode them without newlines.")
    with tempfile.TemporaryDirectory(prefix="shipyard-wrk-") as tmp:
        script, data = Path(tmp) / "post.lua", Path(tmp) / "bodies.txt"
        script.write_text(_SCRIPT)
        data.write_bytes(b"\n".join(bodies) + b"\n")
        url = f"http://127.0.0.1:{port}{path}"
        if warmup_s > 0:
            _wrk(url, script, data, concurrency, warmup_s)
        before = cpu_s(server_pids)
        report, client_s = _wrk(url, script, data, concurrency, duration_s)
        server_s = cpu_s(server_pids) - before
    return parse_report(report, concurrency, duration_s, server_s, client_s)


def _wrk(
    url: str, script: Path, data: Path, concurrency: int, duration_s: float
) -> tuple[str, float]:
    """Run wrk; return its report and its CPU seconds (user + system)."""
    seconds = max(1, round(duration_s))
    command = [wrk_path(), "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s", "-s", str(script), url, "--", str(data)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    report = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"wrk failed ({process.returncode}): {' '.join(command)}\n{report}")
    return report, usage.ru_utime + usage.ru_stime


def parse_report(
    report: str, concurrency: int, duration_s: float, server_s: float, client_s: float
) -> Cell:
    """Read wrk's `--latency` report into a cell.

    Raises:
        SystemExit: A figure is missing from the report.
    """
    requests = _find(r"^\s*(\d+) requests in ([\d.]+)(\w+),", report)
    rate = float(_find(r"^Requests/sec:\s*([\d.]+)", report)[0])
    p50, p99 = (_latency_ms(report, percent) for percent in ("50", "99"))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report, re.MULTILINE)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(map(int, sockets.groups())) if sockets else 0
    count = int(requests[0])
    return Cell(
        concurrency=concurrency,
        requests_per_s=rate,
        p50_ms=p50,
        p99_ms=p99,
        errors=errors,
        server_cpu_ms_per_request=server_s * 1e3 / count if count else float("nan"),
        client_cpu=client_s / max(1, round(duration_s)),
    )


def _latency_ms(report: str, percent: str) -> float:
    value, unit = _find(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", report)
    return float(value) * _UNITS_MS[unit]


def _find(pattern: str, report: str) -> tuple[str, ...]:
    found = re.search(pattern, report, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk's report lacks {pattern!r}:\n{report}")
    return found.groups()
