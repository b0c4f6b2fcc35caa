"""The models page and `/api/models` over a real socket: `shipyard models --json` for the
penguins project's pushed model, with what a server (`stand_in_server`) serves."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from shipyard.cli.main import app as cli
from shipyard.ui import create_app
from shipyard.ui.api import ModelSources
from tests.ui.server import get, serving
from tests.ui.stand_in_server import stand_in_server

if TYPE_CHECKING:
    from pathlib import Path

    from tests.ui.conftest import Penguins


def _cli_json(penguins: Penguins, *extra: str) -> object:
    models = str(penguins.folder / "models")
    result = CliRunner().invoke(
        cli, ["models", "--models-dir", models, "--store", penguins.store, "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_models_api_and_page_show_versions_labels_and_what_a_server_serves(
    penguins: Penguins, tmp_path: Path
) -> None:
    config = tmp_path / "models.yaml"
    base = penguins.folder / "models" / "penguins"
    config.write_text(f"models: [{{name: penguins, base_path: '{base}', labels: {{stable: 1}}}}]")
    with serving(stand_in_server()) as server:
        sources = ModelSources(penguins.folder / "models", model_config=config, server=server)
        with serving(create_app(penguins.project, models=sources)) as url:
            answer = get(f"{url}/api/models")
            html = get(f"{url}/models").text
            unknown = get(f"{url}/api/models?server=http://elsewhere")
        expected = _cli_json(penguins, "--server", server, "--model-config", str(config))
    assert answer.status == 200 and answer.json() == expected
    (model,) = answer.json()["models"]
    (version,) = model["versions"]
    assert (model["name"], version["version"], version["blessed"]) == ("penguins", 1, True)
    assert version["pushed_by"] == penguins.cached and version["labels"] == ["stable"]  # newest
    assert version["state"] == "AVAILABLE"
    assert version["figures"]["requests"] == 42 and version["figures"]["mean_latency_ms"] == 12.5
    assert unknown.status == 400 and unknown.json()["parameter"] == "server"
    assert 'data-models="/api/models"' in html  # the script refreshes the figures
    assert f'href="/runs/{penguins.cached}"' in html and "AVAILABLE" in html
    assert "<td class=num data-cell=requests>42</td>" in html and "12.5 ms" in html
    assert "<span class=label>stable</span>" in html


def test_without_a_server_the_page_says_how_to_name_one_and_a_dead_one_is_reported(
    penguins: Penguins,
) -> None:
    with serving(
        create_app(penguins.project, models=ModelSources(penguins.folder / "models"))
    ) as url:
        plain = get(f"{url}/api/models").json()
        html = get(f"{url}/models").text
    assert plain == _cli_json(penguins)
    assert plain["models"][0]["versions"][0]["figures"] is None
    assert "--server URL" in html and "data-models" not in html
    dead = ModelSources(penguins.folder / "models", server="http://127.0.0.1:9")
    with serving(create_app(penguins.project, models=dead)) as url:
        (model,) = get(f"{url}/api/models").json()["models"]
        html = get(f"{url}/models").text
    assert "Cannot" in model["server_error"] and "127.0.0.1:9" in model["server_error"]
    assert "role=alert" in html
