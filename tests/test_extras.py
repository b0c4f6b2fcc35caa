"""Packaging extras: every imported package is declared, and a missing one names its extra.

The serving-only test runs `shipyard predict` and `shipyard serve` in a Python where
importing torch, lightgbm, polars, duckdb, onnx, safetensors or Pillow fails, as on a host
that installed `shipyard[serve]` only (`benchmarks/install_size.py` checks a real one).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

from shipyard._version import __version__
from shipyard.errors import PluginNotInstalled
from shipyard.extras import (
    EXTRA_INCLUDES,
    EXTRA_MODULES,
    extra_of,
    missing_extra,
    require_extra,
)
from tests.cli.command import post_json, shipyard, shipyard_serve
from tests.client.models import regressor

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
TRAINING_STACK = ("torch", "lightgbm", "polars", "duckdb", "onnx", "safetensors", "PIL")
BLOCKER = f"""
import sys

class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {TRAINING_STACK!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
"""


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def _declared(extra: str | None) -> set[str]:
    requirements = (
        PROJECT["dependencies"] if extra is None else PROJECT["optional-dependencies"][extra]
    )
    return {_name(r) for r in requirements if not r.startswith("shipyard[")}


INDIRECT_PINS = {"ml_dtypes"}
"""Distributions an extra pins but Shipyard does not import (onnx's ml_dtypes, held below 0.7
for its import time; see pyproject.toml)."""


def test_extra_modules_match_pyproject() -> None:
    for extra, modules in EXTRA_MODULES.items():
        required = {
            _name(r)
            for r in PROJECT["optional-dependencies"][extra]
            # uvloop installs on some platforms only; shipyard[...] is another extra
            if "sys_platform" not in r and not r.startswith("shipyard[")
        } - INDIRECT_PINS
        assert set(modules.values()) == required, extra
    for extra, included in EXTRA_INCLUDES.items():
        (self_reference,) = [
            r for r in PROJECT["optional-dependencies"][extra] if r.startswith("shipyard[")
        ]
        assert set(self_reference[len("shipyard[") : -1].split(",")) == set(included), extra


def test_every_imported_package_is_declared() -> None:
    # module name -> distribution, where they differ
    distribution = {"yaml": "pyyaml", "PIL": "pillow", "prometheus_client": "prometheus-client"}
    core = _declared(None)
    imported: dict[str, str] = {}
    for file in (ROOT / "shipyard").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "shipyard":
                    imported.setdefault(top, str(file.relative_to(ROOT)))
    undeclared = {
        module: where
        for module, where in imported.items()
        if distribution.get(module, module.replace("_", "-")) not in core
        and extra_of(module) is None
    }
    assert undeclared == {}
    assert {"numpy", "anyio"} <= imported.keys()  # both were imported but undeclared once


def test_the_core_install_carries_no_training_or_serving_stack() -> None:
    assert not {"torch", "lightgbm", "polars", "duckdb", "onnxruntime"} & _declared(None)
    assert not {"torch", "lightgbm", "polars", "duckdb"} & _declared("serve")


def test_missing_extra_names_the_package_extra_and_command() -> None:
    error = ModuleNotFoundError("No module named 'torch'", name="torch")
    missing = missing_extra(error, needed_by="shipyard train")
    assert isinstance(missing, PluginNotInstalled)
    assert missing.message.startswith('shipyard train needs torch (the "train" extra)')
    assert 'pip install "shipyard[train]"' in str(missing)
    submodule = ModuleNotFoundError("x", name="onnxruntime.capi")
    assert "shipyard[serve]" in str(missing_extra(submodule, needed_by="shipyard serve"))
    assert missing_extra(ModuleNotFoundError("x", name="mypackage"), needed_by="run") is None


def test_require_extra_checks_the_extras_it_includes(monkeypatch: pytest.MonkeyPatch) -> None:
    require_extra("train", needed_by="shipyard train")  # everything is installed here
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "polars" else real(name, *a)
    )
    with pytest.raises(PluginNotInstalled) as caught:
        require_extra("train", needed_by="shipyard train")
    # polars comes with "data", but installing "train" is what brings the command back
    assert caught.value.message.startswith('shipyard train needs polars (the "train" extra)')
    assert 'pip install "shipyard[train]"' in str(caught.value)
    require_extra("serve", needed_by="shipyard serve")


@pytest.fixture
def serving_host(tmp_path: Path) -> Path:
    """A directory whose `sitecustomize.py` makes the training stack unimportable."""
    (tmp_path / "blocker").mkdir()
    (tmp_path / "blocker" / "sitecustomize.py").write_text(BLOCKER)
    return tmp_path / "blocker"


def test_version_names_the_version_python_and_extras(tmp_path: Path, serving_host: Path) -> None:
    full = shipyard(tmp_path, "--version")
    assert full.returncode == 0, full.stderr
    assert full.stdout.startswith(f"shipyard {__version__} from {ROOT / 'shipyard'} (Python 3.")
    assert "extras: serve, data, train, postgres, s3, ray, kubeflow, server)" in full.stdout
    serving = shipyard(tmp_path, "--version", site=serving_host)
    expected = "extras: serve, postgres, s3, ray, kubeflow, server; not installed: data, train)"
    assert expected in serving.stdout


def test_a_command_whose_extra_is_missing_says_what_to_install(
    tmp_path: Path, serving_host: Path
) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,x\n2,y\n")
    result = shipyard(tmp_path, "stats", "data.csv", site=serving_host)
    assert result.returncode == 1
    assert 'Plugin not installed: shipyard stats needs polars (the "data" extra)' in result.stderr
    assert 'pip install "shipyard[data]"' in result.stderr
    assert "Traceback" not in result.stderr
    # checked before anything runs: no store, no run, no half-done pipeline
    train = shipyard(tmp_path, "train", "data.csv", "--label", "b", site=serving_host)
    assert train.returncode == 1
    assert 'shipyard train needs torch (the "train" extra)' in " ".join(train.stderr.split())
    assert not (tmp_path / ".shipyard").exists()


@pytest.mark.slow
def test_serve_and_predict_without_the_training_stack(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, serving_host: Path
) -> None:
    model = regressor(tmp_path_factory)  # models/double/1: predictions = 2 * x + y
    (tmp_path / "rows.csv").write_text("x,y\n1,3\n2,0.5\n")
    predicted = shipyard(
        tmp_path, "predict", "--model", str(model.parent), "--input", "rows.csv",
        "--output", "out.jsonl", site=serving_host,
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["predictions"] for row in rows] == [5.0, 4.5]

    with shipyard_serve(tmp_path, "--model-base-path", str(model.parent), site=serving_host) as url:
        answer = post_json(f"{url}/v1/models/double:predict", {"instances": [{"x": 1.0, "y": 3.0}]})
    assert answer == {"predictions": [[5.0]]}
