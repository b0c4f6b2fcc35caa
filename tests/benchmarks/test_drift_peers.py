"""The drift peers' harness of `benchmarks/monitoring.py --with-peers`: the per-window runner
the peer scripts share, and what the benchmark does when a peer cannot be installed or run.
Nothing here installs or times a peer."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

window: ModuleType = importlib.import_module("peers.drift_window")
drift_peers: ModuleType = importlib.import_module("peers.drift_peers")
monitoring: ModuleType = importlib.import_module("monitoring")


def write(path: Path, columns: dict[str, list[Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)
    return path


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], check: Any) -> None:
    monkeypatch.setattr(sys, "argv", ["drift_fake", *argv])
    window.run_peer("Fake 1.0", check)


def test_each_window_is_checked_against_the_reference_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = write(tmp_path / "ref.parquet", {"a": [1.0, 2.0], "c": ["x", "y"]})
    hour = write(tmp_path / "hour-01.parquet", {"a": [9.0], "c": ["x"], "timestamp": [1]})
    seen = []

    def check(ref: Any, current: Any) -> tuple[set[str], Any]:
        seen.append((list(ref["a"]), list(current.columns)))
        return {"a"}, lambda path: path.with_suffix(".html").write_text("<html/>")

    out = tmp_path / "out"
    run(monkeypatch, ["--reference", str(reference), "--out", str(out), str(hour)], check)
    result = json.loads(capsys.readouterr().out)
    assert seen == [([1.0, 2.0], ["a", "c"])]  # the timestamp is not a feature
    assert result["version"] == "Fake 1.0"
    [only] = result["windows"]
    assert only["file"] == "hour-01.parquet"
    assert only["flagged"] == ["a"]
    assert only["reports"] == {"hour-01.html": 7}
    assert only["wall_s"] >= only["report_wall_s"] >= 0


def test_a_window_with_other_columns_is_refused_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = write(tmp_path / "ref.parquet", {"a": [1.0]})
    other = write(tmp_path / "other.parquet", {"b": [1.0]})
    argv = ["--reference", str(reference), "--out", str(tmp_path / "out"), str(other)]
    with pytest.raises(SystemExit, match=r"other\.parquet: columns \['b'\]"):
        run(monkeypatch, argv, lambda ref, cur: (set(), lambda path: None))


def test_a_peer_that_cannot_be_installed_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(name: str, **_: object) -> Path:
        raise subprocess.CalledProcessError(1, ["pip", "install", name])

    monkeypatch.setattr(drift_peers, "peer_venv", failing)
    [evidently, *_] = drift_peers.DRIFT_PEERS
    reason = drift_peers.peer_python(evidently)
    assert isinstance(reason, str)
    assert "could not install" in reason
    assert str(Path("benchmarks") / ".peers" / "evidently") in reason
    runs = monitoring.peer_runs(with_peers=True)
    assert [r.failed.startswith("not run: could not install") for r in runs] == [True] * 3


def test_a_peer_that_fails_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    peer = drift_peers.DriftPeer("Missing", "missing", "nothing")
    runs = monitoring.PeerRuns(peer, Path(sys.executable))
    runs.run(tmp_path, 0)
    assert runs.ends == []
    assert runs.failed.startswith("failed in round 1:")
    assert "No module named peers.drift_missing" in runs.failed
    runs.run(tmp_path, 1)  # a failed peer is not run again
    assert runs.failed.startswith("failed in round 1:")


def test_the_table_puts_the_peers_beside_shipyard_with_ratios_and_confusion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    every = {f"n{i:02d}" for i in range(16)} | {f"c{i}" for i in range(4)}
    shifted = sorted(monitoring.SHIFTED)

    def peer_output(flagged: list[list[str]], report_s: float) -> str:
        windows = [
            {"flagged": f, "reports": {"x.html": 2_000_000}, "wall_s": 3.0 + report_s,
             "report_wall_s": report_s}
            for f in flagged
        ]  # fmt: skip
        return json.dumps({"version": "Evidently 0.7.23", "windows": windows})

    [evidently, whylogs, _] = drift_peers.DRIFT_PEERS
    good = monitoring.PeerRuns(evidently, Path("python"))
    good.ends = [(40.0, 1400.0, 42.0, peer_output([shifted], 0.5))]
    good.hourly = [(9.0, 9.0, 900.0, peer_output([[], shifted, [*shifted, "n01"]], 1.0))]
    broken = monitoring.PeerRuns(whylogs, failed="not run: could not install it")
    floor, ours = [(0.5, 300.0, 0.5, "")], [(1.0, 450.0, 1.0, "")]
    hourly = [(2.4, 400.0, 2.4, "")]
    monitoring.print_peers([good, broken], floor, ours, hourly, set(shifted), every)
    out = capsys.readouterr().out
    assert "Evidently 0.7.23" in out and "4/4" in out and "0/16" in out
    assert "Evidently vs shipyard monitor: 40.0x wall, 42.0x CPU" in out
    assert "shipyard monitor vs the floor: 2.00x wall, 2.00x CPU" in out
    assert "whylogs: not run: could not install it" in out
    # 3 windows, 4.0 s each against shipyard's 0.1 s; hour 00 unshifted, n01 a false alarm
    assert "Evidently: 4.000 s a window (1.000 s of it writing the report), 40x" in out
    assert "shifted           8      0\n    unshifted         1     51" in out
