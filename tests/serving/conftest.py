"""Real models for the serving tests, trained once per session, and repositories of them."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from shipyard.serving.config import ModelConfig, VersionPolicy
from tests.cli.command import shipyard
from tests.serving.server import RunningServer

if TYPE_CHECKING:
    from collections.abc import Iterator

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins" / "data" / "penguins.csv"
FAST = ["--hidden-units", "16,8", "--epochs", "5"]


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Exported model directories: `penguins` (multiclass species) and `mass` (regression)."""
    work = tmp_path_factory.mktemp("trained")
    exported = {}
    for name, label in (("penguins", "species"), ("mass", "body_mass_g")):
        options = ["--label", label, "--model-name", name, "--push-to", str(work / "models")]
        result = shipyard(work, "train", str(PENGUINS), *options, *FAST)
        assert result.returncode == 0, result.stderr
        exported[name] = work / "models" / name / "1"
    require_feature(exported["penguins"], "sex")
    return exported


def require_feature(model: Path, name: str) -> None:
    """Mark an input required in `signature.json`.

    Shipyard's default preprocessing makes every input optional (missing strings go to the
    OOV bucket, missing numbers are imputed); a custom `preprocessing` function can make one
    required. The API tests need one such input.
    """
    file = model / "signature.json"
    signature = json.loads(file.read_text())
    for spec in signature["inputs"]:
        if spec["name"] == name:
            spec["optional"] = False
    file.write_text(json.dumps(signature, indent=2))


def add_version(base: Path, version: int, source: Path) -> Path:
    """Copy an exported model to `base/version` atomically, as `push` does."""
    base.mkdir(parents=True, exist_ok=True)
    staging = base / f".push-{version}"
    shutil.copytree(source, staging)
    target = base / str(version)
    staging.rename(target)
    return target


@pytest.fixture
def penguin_row() -> dict[str, object]:
    """One complete raw row the classifier takes."""
    return {
        "island": "Torgersen",
        "bill_length_mm": 39.1,
        "bill_depth_mm": 18.7,
        "flipper_length_mm": 181,
        "body_mass_g": 3750,
        "sex": "male",
        "year": 2007,
    }


def penguin_rows(every: int = 25) -> list[dict[str, Any]]:
    """Rows of the penguins file without the label (numbers as floats, NA as None): every
    `every`-th row, then two rows with missing values."""
    with PENGUINS.open(newline="") as file:
        records = list(csv.DictReader(file))
    records = [*records[::every], records[3], records[8]]
    rows = []
    for record in records:
        del record["species"]
        rows.append(
            {
                key: None if value == "NA" else value if key in ("island", "sex") else float(value)
                for key, value in record.items()
            }
        )
    return rows


API_LIMIT_BYTES = 64 * 1024


@pytest.fixture(scope="session")
def api_server(
    trained: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One server for the API tests.

    `penguins` (version 3, the classifier), `mass` (version 1, the regressor) and `mixed`
    (version 1 the regressor, version 2 the classifier; labels stable -> 1, canary -> 2,
    gone -> 9), with a 64 KiB body limit.
    """
    root = tmp_path_factory.mktemp("repository")
    add_version(root / "penguins", 3, trained["penguins"])
    add_version(root / "mass", 1, trained["mass"])
    add_version(root / "mixed", 1, trained["mass"])
    add_version(root / "mixed", 2, trained["penguins"])
    models = [
        ModelConfig("penguins", root / "penguins"),
        ModelConfig("mass", root / "mass"),
        ModelConfig(
            "mixed",
            root / "mixed",
            VersionPolicy(kind="all"),
            labels={"stable": 1, "canary": 2, "gone": 9},
        ),
    ]
    with RunningServer(models, max_body_bytes=API_LIMIT_BYTES) as server:
        yield server
