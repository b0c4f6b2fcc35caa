"""`make demo` ends by printing the next commands (examples/penguins/next_steps.txt); they
work as pasted from the repository root.

The commands run here against the penguins classifier pushed where the demo pushes
(`examples/penguins/models/penguins`, in a copy of the layout): `shipyard serve` (on a free
port instead of 8501), the `curl` request (sent with urllib) and `shipyard predict`.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from shipyard.dsl import load_pipeline
from tests.cli.command import post_json, shipyard, shipyard_serve
from tests.client.models import classifier

ROOT = Path(__file__).resolve().parents[2]
NEXT_STEPS = ROOT / "examples" / "penguins" / "next_steps.txt"
NOT_RUN_HERE = ("source .venv/bin/activate", "make test")

pytestmark = pytest.mark.slow


def commands() -> list[list[str]]:
    """The commands of the text: indented lines that are not comments, split as a shell does."""
    lines = [line for line in NEXT_STEPS.read_text().splitlines() if line.startswith("  ")]
    return [shlex.split(line, comments=True) for line in lines if line.split()[0] != "#"]


def test_the_model_path_is_where_the_demo_pushes() -> None:
    pipeline = load_pipeline(ROOT / "examples" / "penguins" / "pipeline.py")
    base = Path(pipeline["push"].parameters["base"]).relative_to(ROOT)
    pushed_to = f"{base}/{pipeline['push'].parameters['name']}"
    serve = next(c for c in commands() if c[:2] == ["shipyard", "serve"])
    assert serve[serve.index("--model-base-path") + 1] == pushed_to
    assert f"The demo pushed its model to {pushed_to}/." in NEXT_STEPS.read_text()
    assert (ROOT / "Makefile").read_text().count("cat examples/penguins/next_steps.txt") == 1


def test_the_readme_set_up_commands_are_the_tested_ones() -> None:
    readme = (ROOT / "README.md").read_text().split("## Set up", 1)[1]
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    pasted = [shlex.split(line, comments=True) for line in block.splitlines()]
    assert pasted[0] == ["make", "demo"]
    tested = commands()
    for command in pasted[1:]:
        assert command in tested, command


def test_the_printed_commands_work_as_pasted(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "examples" / "penguins" / "data", tmp_path / "examples/penguins/data")
    model = classifier(tmp_path_factory)
    shutil.copytree(model, tmp_path / "examples/penguins/models/penguins/1")
    run = [c for c in commands() if " ".join(c) not in NOT_RUN_HERE]
    assert [c[:2] for c in run] == [
        ["shipyard", "serve"],
        ["curl", "-d"],
        ["shipyard", "predict"],
    ]
    serve, curl, predict = run

    with shipyard_serve(tmp_path, *serve[2:]) as url:  # on a free port, not 8501
        answer = post_json(curl[3].replace("localhost:8501", url), curl[2])
    (prediction,) = answer["predictions"]
    assert prediction["class_labels"] in ("Adelie", "Chinstrap", "Gentoo")

    predicted = shipyard(tmp_path, *predict[1:])
    assert predicted.returncode == 0, predicted.stderr
    rows = (tmp_path / predict[predict.index("--output") + 1]).read_text().splitlines()
    assert len(rows) == 1 + 344  # a header and a prediction per penguin
