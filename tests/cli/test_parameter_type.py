"""shipyard train's numeric options take their limits from train's declarations."""

from __future__ import annotations

from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.cli.parameter_type import ComponentParameter
from shipyard.components import train
from shipyard.dsl.constraints import Bounds


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--epochs", "0", "0 is not an int >= 1 or None (the limit train declares on its 'epochs'"),
        ("--learning-rate", "0", "0 is not a float > 0 (the limit train declares"),
        ("--batch-size", "-3", "-3 is not an int >= 1"),
        ("--batch-size", "many", "'many' is not an int >= 1."),
    ],
)
def test_an_option_out_of_the_declared_limits_is_a_usage_error(
    flag: str, value: str, message: str
) -> None:
    result = CliRunner().invoke(app, ["train", "data.csv", "--label", "y", flag, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{flag}'" in result.output
    assert message in " ".join(result.output.replace("│", " ").split())


def test_the_parser_follows_the_declaration() -> None:
    assert train.parameters["epochs"].bounds == Bounds(min=1)
    app_ = typer.Typer()

    @app_.command()
    def main(
        dropout: Annotated[
            float,
            typer.Option(parser=ComponentParameter("shipyard.components:train", "dropout", float)),
        ] = 0.0,
    ) -> None:
        print(f"dropout={dropout}")

    assert "dropout=0.5" in CliRunner().invoke(app_, ["--dropout", "0.5"]).output
    refused = CliRunner().invoke(app_, ["--dropout", "1"])
    assert refused.exit_code == 2 and "is not a float in [0, 1)" in refused.output
