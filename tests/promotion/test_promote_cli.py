"""`shipyard promote` errors: no such model or canary, a server that does not answer."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.io.ports import free_port
from shipyard.serving.labels import make_stable, start_canary


def test_missing_models_canaries_and_servers_are_errors_with_exit_2(tmp_path: Path) -> None:
    base = tmp_path / "models"
    for version in (1, 2):
        (base / "m" / str(version)).mkdir(parents=True)
    url = f"http://127.0.0.1:{free_port()}"
    store = f"sqlite:///{tmp_path / 'store.db'}"

    def promote() -> tuple[int, str]:
        result = CliRunner().invoke(
            app, ["promote", "m", "--server", url, "--models-dir", str(base), "--store", store]
        )
        return result.exit_code, " ".join(result.output.split())

    code, output = promote()
    assert code == 2 and "lists no model 'm'" in output
    config = base / "models.yaml"
    make_stable(config, name="m", base_path=base / "m", version=1)
    code, output = promote()
    assert code == 2 and "has no canary" in output
    start_canary(config, name="m", base_path=base / "m", version=2, percent=10)
    code, output = promote()
    assert code == 2 and f"Cannot read the metrics of the server at {url}/metrics" in output
    assert config.read_text().count("canary") == 2  # nothing was changed
