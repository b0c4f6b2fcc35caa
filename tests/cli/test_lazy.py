"""`shipyard --help` and `--version` import no command; each command loads when it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import typer
from typer.testing import CliRunner

from shipyard.cli.lazy import LazyCommand, lazy_group
from shipyard.cli.main import COMMANDS, app
from tests.cli.imported import imported_modules, loaded

if TYPE_CHECKING:
    from pathlib import Path

_COMMAND_MODULES = tuple(sorted({entry.target.split(":")[0] for entry in COMMANDS}))
_HEAVY = ("sqlalchemy", "pydantic", "rich", "pyarrow", "numpy", "fsspec", "yaml", "polars")


@pytest.mark.parametrize("entry", COMMANDS, ids=[entry.name for entry in COMMANDS])
def test_each_summary_is_the_first_sentence_of_the_commands_help(entry: LazyCommand) -> None:
    assert entry.load().get_short_help_str(limit=1000) == entry.summary


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_command_and_no_heavy_library(tmp_path: Path, flag: str) -> None:
    done, modules = imported_modules(tmp_path, flag, scratch=tmp_path)
    assert done.returncode == 0, done.stderr
    assert loaded(modules, *_COMMAND_MODULES) == []
    assert loaded(modules, *_HEAVY) == []
    if flag == "--help":
        for entry in COMMANDS:  # every command is listed, with the start of its summary
            assert f"  {entry.name} " in done.stdout
            assert entry.summary[:20] in done.stdout


def test_a_command_imports_its_own_module_only(tmp_path: Path) -> None:
    done, modules = imported_modules(tmp_path, "schema", "--help", scratch=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Infer a schema from a data file" in done.stdout
    assert loaded(modules, *_COMMAND_MODULES) == ["shipyard.cli.schema"]


def test_a_mistyped_command_is_answered_with_the_closest_names() -> None:
    result = CliRunner().invoke(app, ["rn"])
    assert result.exit_code == 2
    assert "No such command 'rn'. Did you mean 'run', 'runs'?" in result.output


def test_an_unknown_target_fails_when_its_command_runs_not_before() -> None:
    entries = [LazyCommand("gone", "shipyard.cli.gone:app", "Gone.")]
    group = typer.Typer(cls=lazy_group(entries), rich_markup_mode=None)

    @group.callback()
    def _root() -> None:
        """Root."""

    runner = CliRunner()
    listed = runner.invoke(group, ["--help"])
    assert listed.exit_code == 0 and "gone  Gone." in listed.output
    failed = runner.invoke(group, ["gone"])
    assert isinstance(failed.exception, ModuleNotFoundError)
