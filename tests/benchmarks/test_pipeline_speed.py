"""The harness of `benchmarks/pipeline_speed.py`: its arguments, goals, table, process timing,
the TFX tutorial's CSV and the peers' venv checks. Nothing here is timed or runs a peer."""

from __future__ import annotations

import csv
import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

speed: ModuleType = importlib.import_module("pipeline_speed")
timing: ModuleType = importlib.import_module("peers.timing")
tfx_env: ModuleType = importlib.import_module("peers.tfx_env")
tutorial: ModuleType = importlib.import_module("peers.tfx_penguin.tutorial_data")


def sample(wall_s: float, cpu_s: float | None = None) -> object:
    cpu_s = wall_s / 2 if cpu_s is None else cpu_s
    return timing.Sample(wall_s=wall_s, cpu_s=cpu_s, load_before=1.0, load_after=1.5)


def test_only_is_checked_and_put_in_the_cells_order() -> None:
    args = speed.parse_args(["--only", "stats, cold", "--repeats", "2"])
    assert args.only == ["cold", "stats"]
    assert args.repeats == 2
    assert speed.parse_args([]).only == list(speed.CELLS)


def test_an_unknown_cell_or_no_repeat_is_refused_naming_the_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        speed.parse_args(["--only", "cold,warm"])
    assert "Got 'cold,warm' instead" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        speed.parse_args(["--repeats", "0"])
    assert "--repeats must be an int >= 1. Got 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "value", "ours_s", "peer_s", "met", "text"),
    [
        ("max_s", 2.5, 2.4, None, True, "<= 2.5 s"),
        ("max_s", 2.5, 2.6, None, False, "<= 2.5 s"),
        ("min_speedup", 20, 2.0, 41.0, True, ">= 20x faster than tfx"),
        ("min_speedup", 20, 2.0, 39.0, False, ">= 20x faster than tfx"),
        ("min_speedup", 20, 2.0, None, None, ">= 20x faster than tfx"),
        ("max_slowdown", 1.3, 1.2, 1.0, True, "<= 1.3x tfx"),
        ("max_slowdown", 1.3, 1.4, 1.0, False, "<= 1.3x tfx"),
    ],
)
def test_goals(
    kind: str, value: float, ours_s: float, peer_s: float | None, met: bool | None, text: str
) -> None:
    goal = timing.Goal(kind, value)
    assert goal.met(ours_s, peer_s) is met
    assert goal.text("tfx") == text


def test_the_table_gives_medians_ratios_results_and_load() -> None:
    rows = [
        timing.Row("cold", "shipyard", True, timing.Goal("max_s", 2.5)),
        timing.Row("cold", "tfx 1.16", False, timing.Goal("min_speedup", 20)),
        timing.Row("stats", "shipyard", True),
        timing.Row("stats", "polars", False, timing.Goal("max_slowdown", 1.3)),
        timing.Row("stats", "tfdv 1.16", False, timing.Goal("min_speedup", 50), skipped="not run"),
    ]
    rows[0].samples += [sample(2.0), sample(3.0), sample(2.2)]
    rows[1].samples += [sample(40.0, cpu_s=11.0), sample(50.0, cpu_s=13.0)]
    rows[2].samples += [sample(1.5)]
    rows[3].samples += [sample(1.0)]
    lines = timing.format_table(rows).splitlines()
    assert lines[0].split()[:4] == ["cell", "program", "runs", "min"]
    assert lines[1].split() == [
        "cold", "shipyard", "3", "2.000", "2.200", "3.000", "1.100", "<=", "2.5", "s", "PASS",
        "1.00->1.50",
    ]  # fmt: skip
    assert "20.5x faster (cpu 10.9x)" in lines[2] and "PASS" in lines[2]  # 45/2.2, 12/1.1
    assert "1.50x polars (cpu 1.50x)" in lines[4] and "FAIL" in lines[4]
    assert "not run" in lines[5] and lines[5].rstrip().endswith("-")


def test_a_peer_row_without_shipyard_samples_has_no_verdict() -> None:
    rows = [timing.Row("cold", "shipyard", True), timing.Row("cold", "tfx", False)]
    rows[1].samples.append(sample(40.0))
    assert timing.verdict(rows[1], rows) == ("", "-")


def test_a_row_with_a_failed_run_fails_and_says_so() -> None:
    rows = [
        timing.Row("cold", "shipyard", True, timing.Goal("max_s", 2.5)),
        timing.Row("cold", "tfx 1.16", False, timing.Goal("min_speedup", 20)),
    ]
    rows[0].samples.append(sample(1.0))
    rows[1].failures.append("pushed no model")
    lines = timing.format_table(rows).splitlines()
    assert "PASS" in lines[1]
    assert "0 (1 failed)" in lines[2] and "failed: see above" in lines[2]
    assert lines[2].rstrip().endswith("FAIL")
    rows[1].samples.append(sample(45.0))
    assert timing.verdict(rows[1], rows) == ("45.0x faster (cpu 45.0x)", "FAIL")


def test_run_timed_measures_a_real_process(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "print('hello')"]
    measured = timing.run_timed(command, cwd=tmp_path, log=tmp_path / "log", timeout_s=60)
    assert measured.wall_s > 0
    assert measured.cpu_s > 0
    assert (tmp_path / "log").read_text() == "hello\n"


def test_run_timed_names_the_command_the_directory_and_the_output_on_failure(
    tmp_path: Path,
) -> None:
    command = [sys.executable, "-c", "import sys; print('broken input'); sys.exit(3)"]
    with pytest.raises(timing.RunFailed) as failed:
        timing.run_timed(command, cwd=tmp_path, log=tmp_path / "log", timeout_s=60)
    message = str(failed.value)
    assert "exit status 3" in message
    assert str(tmp_path) in message
    assert "| broken input" in message


def test_run_timed_stops_a_process_past_the_timeout(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(timing.RunFailed, match=r"no result within 0.5 s \(--timeout\)"):
        timing.run_timed(command, cwd=tmp_path, log=tmp_path / "log", timeout_s=0.5)


def test_the_tutorial_csv_holds_the_example_rows_scaled(tmp_path: Path) -> None:
    source = speed.PENGUINS / "data" / "penguins.csv"
    target = tmp_path / "data" / "penguins.csv"
    written = tutorial.write_tutorial_csv(source, target)
    with source.open() as handle:
        complete = [
            row for row in csv.DictReader(handle) if "NA" not in [row[f] for f in tutorial.FEATURES]
        ]
    with target.open() as handle:
        rows = list(csv.DictReader(handle))
    assert written == len(rows) == len(complete) > 300
    assert list(rows[0]) == ["species", *tutorial.FEATURES]
    assert {row["species"] for row in rows} == {"0", "1", "2"}
    for feature in tutorial.FEATURES:
        values = [float(row[feature]) for row in rows]
        assert min(values) == 0.0 and max(values) == 1.0


def test_the_tutorial_csv_refuses_an_unknown_species_naming_the_line(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "species,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g\n"
        "Adelie,39.1,18.7,181,3750\nEmperor,50,20,200,9000\n"
    )
    with pytest.raises(SystemExit, match=r"in.csv, line 3: species 'Emperor'"):
        tutorial.write_tutorial_csv(source, tmp_path / "out.csv")


def test_the_tutorial_csv_names_missing_columns(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("species,bill_length_mm\nAdelie,39.1\n")
    with pytest.raises(SystemExit, match="bill_depth_mm, flipper_length_mm, body_mass_g"):
        tutorial.write_tutorial_csv(source, tmp_path / "out.csv")


def test_the_penguins_copy_leaves_out_pushed_models_and_the_store(tmp_path: Path) -> None:
    pipeline = speed.copy_penguins(tmp_path)
    assert pipeline == tmp_path / "penguins" / "pipeline.py"
    assert (tmp_path / "penguins" / "data" / "penguins.csv").is_file()
    assert not (tmp_path / "penguins" / "models").exists()
    assert not (tmp_path / "penguins" / ".shipyard").exists()


def test_a_named_python_that_is_missing_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHIPYARD_PEERS_PYTHON", str(tmp_path / "python3.10"))
    with pytest.raises(SystemExit, match=r"SHIPYARD_PEERS_PYTHON names .*python3.10"):
        tfx_env.find_python310()


def test_a_venv_counts_as_built_only_with_the_marker_of_these_requirements(
    tmp_path: Path,
) -> None:
    assert not tfx_env.is_built(tmp_path)
    (tmp_path / tfx_env.MARKER).write_text("tfx==1.15.0")
    assert not tfx_env.is_built(tmp_path)
    (tmp_path / tfx_env.MARKER).write_text("\n".join(tfx_env.REQUIREMENTS))
    assert tfx_env.is_built(tmp_path)


def test_a_failed_build_names_the_step_the_log_and_an_unreachable_index(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(
        "$ uv pip install tfx==1.16.0\nerror: Failed to fetch: `https://x/simple/tfx/`\n"
    )
    message = tfx_env._failure("install TFX", 2, log)
    assert "failed at 'install TFX' (exit 2)" in message
    assert str(log) in message
    assert "package index could not be reached" in message
    log.write_text("error: a compiler is missing\n")
    assert "package index" not in tfx_env._failure("install TFX", 1, log)


FAKE_PYTHON = """#!/bin/sh
# a stand-in for python3.10: `-m venv DIR` makes DIR/bin/python (itself); other calls
# succeed, except the one whose arguments contain $FAIL_ON
echo "called: $*"
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit 0; fi
case "$*" in *"$FAIL_ON"*) echo "error: Failed to fetch: index"; exit 2;; esac
"""


def fake_python310(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_on: str) -> None:
    python = tmp_path / "python3.10"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    monkeypatch.setenv("SHIPYARD_PEERS_PYTHON", str(python))
    monkeypatch.setenv("FAIL_ON", fail_on)


def test_the_venv_is_built_in_order_marked_and_then_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_python310(tmp_path, monkeypatch, fail_on="no step has this")
    venv, log = tmp_path / "tfx", tmp_path / "build.log"
    python = tfx_env.tfx_python(venv=venv, log=log)
    assert python == venv / "bin" / "python"
    called = [line for line in log.read_text().splitlines() if line.startswith("called:")]
    assert [line.split()[1:3] for line in called] == [
        ["-m", "venv"],
        ["-m", "pip"],
        ["-m", "uv"],
        ["-m", "compileall"],
        ["-c", "import"],
    ]
    assert "tfx==1.16.0 apache-beam[dill]==2.74.0" in called[2]
    assert tfx_env.is_built(venv)
    log.unlink()
    assert tfx_env.tfx_python(venv=venv, log=log) == python
    assert not log.exists()  # reused: nothing was run


def test_a_failed_step_stops_the_build_unmarked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_python310(tmp_path, monkeypatch, fail_on="tfx==1.16.0")
    venv, log = tmp_path / "tfx", tmp_path / "build.log"
    with pytest.raises(SystemExit, match=r"failed at 'install TFX' \(exit 2\)") as failed:
        tfx_env.tfx_python(venv=venv, log=log)
    assert "package index could not be reached" in str(failed.value)
    assert "compileall" not in log.read_text()
    assert not tfx_env.is_built(venv)
