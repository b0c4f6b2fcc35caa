"""The Makefile's set-up: a `.venv` that cannot be trusted is rebuilt, never reused.

`make check-venv` runs before every target that uses `.venv`. These tests run it on
virtual environments made in a temporary copy (without pip, so they take a second): one
made by a Python older than 3.11, one whose interpreter no longer exists, one whose install
did not finish (no stamp), and a good one, which must be kept.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def old_python() -> str | None:
    """A Python older than 3.11 on this machine, if there is one."""
    candidates = [shutil.which(f"python3.{minor}") for minor in (10, 9, 8)]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.1[0]*/bin/python3")))
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.[89]*/bin/python3")))
    for candidate in filter(None, candidates):
        check = "import sys; print(sys.version_info < (3, 11))"
        found = subprocess.run(
            [candidate, "-c", check], check=False, capture_output=True, text=True
        )
        if found.stdout.strip() == "True":  # a pyenv shim of an inactive version is not
            return candidate
    return None


def make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    return tmp_path


def venv(project: Path, python: str = sys.executable, *, stamp: bool = True) -> Path:
    subprocess.run([python, "-m", "venv", "--without-pip", str(project / ".venv")], check=True)
    if stamp:
        (project / ".venv" / ".installed").touch()
    return project / ".venv"


def test_a_good_venv_is_kept(project: Path) -> None:
    made = venv(project)
    result = make(project, "check-venv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert (made / ".installed").is_file()


def test_an_unfinished_install_is_rebuilt(project: Path) -> None:
    venv(project, stamp=False)
    result = make(project, "check-venv")
    assert result.stdout == "Rebuilding .venv: its last install did not finish.\n"
    assert not (project / ".venv").exists()


def test_a_venv_whose_python_is_gone_is_rebuilt(project: Path) -> None:
    made = venv(project)
    for name in ("python", "python3"):
        (made / "bin" / name).unlink()
        (made / "bin" / name).symlink_to(project / "moved" / "python3")
    result = make(project, "check-venv")
    assert "Rebuilding .venv: its python no longer runs" in result.stdout
    assert not made.exists()


def test_a_venv_of_an_old_python_is_rebuilt(project: Path) -> None:
    python = old_python()
    if python is None:
        pytest.skip("no Python older than 3.11 on this machine")
    made = venv(project, python)
    result = make(project, "check-venv")
    assert "Rebuilding .venv: it was made by Python 3." in result.stdout
    assert "Shipyard needs >= 3.11" in result.stdout
    assert not made.exists()


def test_setup_refuses_an_old_python_and_says_what_to_run(project: Path) -> None:
    python = old_python()
    if python is None:
        pytest.skip("no Python older than 3.11 on this machine")
    result = make(project, "setup", f"PYTHON={python}")
    assert result.returncode != 0
    assert f"Shipyard needs Python >= 3.11; '{python}' is Python 3." in result.stdout
    assert "make PYTHON=python3.11 demo" in result.stdout
    assert not (project / ".venv").exists()


def test_the_stamp_is_written_last_and_pip_shows_progress() -> None:
    recipe = (ROOT / "Makefile").read_text().split("$(STAMP): pyproject.toml", 1)[1]
    recipe = recipe.split("\n\n", 1)[0]
    steps = [line.strip() for line in recipe.splitlines() if line.startswith("\t")]
    assert steps[-1] == "touch $(STAMP)"
    # an install that stops half-way leaves no stamp: it is removed before pip runs
    first_install = next(i for i, step in enumerate(steps) if "$(PIP)" in step)
    assert steps.index("rm -f $(STAMP)") < first_install
    assert "--quiet" not in (ROOT / "Makefile").read_text()
    assert "--progress-bar on" in (ROOT / "Makefile").read_text()
