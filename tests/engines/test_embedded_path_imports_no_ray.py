"""The embedded laptop path never imports Ray, even where the "ray" extra is installed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.cli.imported import imported_modules, loaded
from tests.examples.test_examples import copy_example

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.slow
def test_a_cold_run_of_the_tutorial_pipeline_imports_no_ray(tmp_path: Path) -> None:
    pytest.importorskip("ray")  # without Ray installed, the assertion below could not fail
    folder = copy_example("penguins", tmp_path)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    artifacts = tmp_path / "artifacts"
    done, modules = imported_modules(
        folder,
        *("run", "pipeline.py", "--store", store, "--artifact-root", str(artifacts)),
        scratch=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "pushed" in done.stderr.lower() or "push" in done.stderr, done.stderr
    assert loaded(modules, "polars", "torch") == ["polars", "torch"]  # it did the work
    assert loaded(modules, "ray") == []
