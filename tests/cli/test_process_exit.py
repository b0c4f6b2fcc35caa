"""exit_process: a normal exit's effects (hooks, threads, output, status), without teardown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.command import shipyard
from tests.environment import child_environment

SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
from shipyard.cli.process_exit import exit_process

out = Path(sys.argv[1])

class Teardown:
    def __del__(self):  # runs when the interpreter frees the module's objects
        (out / "teardown").write_text("ran")

keep = Teardown()
atexit.register(lambda: (out / "atexit").write_text("ran"))

def late():
    time.sleep(0.3)
    (out / "thread").write_text("ran")

threading.Thread(target=late).start()
sys.stdout.write("unflushed output")
exit_process(CODE)
"""


def _run(tmp_path: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.replace("CODE", code))
    inherited = child_environment()
    environment = {**inherited, "PYTHONPATH": str(Path.cwd()), **env}
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def test_exit_keeps_hooks_threads_output_and_status_but_skips_teardown(tmp_path: Path) -> None:
    done = _run(tmp_path, "3")
    assert done.returncode == 3
    assert done.stdout == "unflushed output"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").read_text() == "ran"  # waited for, as at a normal exit
    assert not (tmp_path / "teardown").exists()  # the interpreter's teardown was skipped


def test_normal_exit_when_asked(tmp_path: Path) -> None:
    done = _run(tmp_path, "3", SHIPYARD_NORMAL_EXIT="1")
    assert done.returncode == 3
    assert (tmp_path / "teardown").read_text() == "ran"
    assert (tmp_path / "atexit").read_text() == "ran"


@pytest.mark.parametrize(
    ("code", "status", "stderr"), [("None", 0, ""), ("'no luck'", 1, "no luck\n")]
)
def test_status_as_sys_exit(tmp_path: Path, code: str, status: int, stderr: str) -> None:
    done = _run(tmp_path, code)
    assert (done.returncode, done.stderr) == (status, stderr)


def test_the_command_exits_with_its_status(tmp_path: Path) -> None:
    assert shipyard(tmp_path, "--help").returncode == 0
    missing = shipyard(tmp_path, "runs", "show", "1999-nope")
    assert missing.returncode == 1 and "Not found" in missing.stderr
