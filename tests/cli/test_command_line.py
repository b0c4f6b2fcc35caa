"""Rebuilding the command a user ran, for resume hints."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.testing import CliRunner

from shipyard.cli.command_line import repeat_command

app = typer.Typer()
hints: list[str] = []


@app.command("other")
def other() -> None:
    """A second command, so `train` is a subcommand as in `shipyard`."""


@app.command("train")
def train(
    ctx: typer.Context,
    data: str,
    label: Annotated[str, typer.Option("--label")],
    model: Annotated[str, typer.Option("--model")] = "dnn",
    exclude: Annotated[list[str] | None, typer.Option("--exclude")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache")] = False,
    store: Annotated[str | None, typer.Option("--store", envvar="TEST_STORE")] = None,
) -> None:
    hints.append(repeat_command(ctx))
    hints.append(repeat_command(ctx, replace={"label": "tip", "exclude": ["tip amount"]}))


def test_repeats_what_the_user_gave_and_nothing_else() -> None:
    hints.clear()
    result = CliRunner().invoke(
        app,
        ["train", "my data.csv", "--exclude", "a,b", "--label", "tipz", "--no-cache"],
        env={"TEST_STORE": "sqlite:///s.db"},
    )
    assert result.exit_code == 0, result.output
    assert hints == [
        "shipyard train 'my data.csv' --label tipz --exclude a,b --no-cache --store sqlite:///s.db",
        "shipyard train 'my data.csv' --label tip --exclude 'tip amount' --no-cache "
        "--store sqlite:///s.db",
    ]


def test_defaults_are_left_out_and_repeated_options_repeat() -> None:
    hints.clear()
    result = CliRunner().invoke(
        app,
        ["train", "d.csv", "--label", "y", "--model", "dnn", "--exclude", "a", "--exclude", "b"],
    )
    assert result.exit_code == 0, result.output
    # --model was typed, so it is repeated even though it equals the default
    assert hints[0] == "shipyard train d.csv --label y --model dnn --exclude a --exclude b"
