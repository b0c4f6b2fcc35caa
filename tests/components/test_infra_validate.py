"""Infra validation: the model is served by a real `shipyard serve` and must answer well."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts import Examples, InfraBlessing, Model
from shipyard.artifacts.exported_model import Signature, TensorSpec
from shipyard.components import infra_validate
from shipyard.components.infra_validate import _malformed
from shipyard.errors import InvalidParameterError
from tests.serving.conftest import penguin_rows, require_feature, trained

__all__ = ["trained"]

TWO_OUTPUTS = Signature(
    task="multiclass",
    inputs=(),
    outputs=(
        TensorSpec("class_ids", "int64", (None,)),
        TensorSpec("probabilities", "float", (None, 3)),
    ),
)


def _eval_examples(root: Path, rows: list[dict[str, object]]) -> Examples:
    examples = Examples(root / "examples")
    examples.write_split("eval", pa.Table.from_pylist(rows))
    return examples


@pytest.mark.parametrize(
    ("predictions", "problem"),
    [
        ([{"class_ids": 1, "probabilities": [0.1, 0.8, 0.1]}], None),
        ([], "expected 1 predictions, got []"),
        ([{"class_ids": 1}], "prediction 0 is not one value per output"),
        ([{"class_ids": 1, "probabilities": [float("nan"), 0.5, 0.5]}], "NaN or an infinity"),
    ],
)
def test_answers_must_hold_one_finite_value_per_output_and_row(
    predictions: list[object], problem: str | None
) -> None:
    found = _malformed(predictions, TWO_OUTPUTS, 1)
    assert found == problem if problem is None else problem in (found or "")


def test_bad_parameters_are_refused_before_any_server_starts(tmp_path: Path) -> None:
    model, out = Model(tmp_path / "m"), InfraBlessing(tmp_path / "out")
    with pytest.raises(InvalidParameterError, match="'requests' parameter of infra_validate"):
        infra_validate.fn(model, out, _eval_examples(tmp_path, [{"x": 1}]), requests=0)
    with pytest.raises(InvalidParameterError, match="'request_log' parameter of infra_validate"):
        infra_validate.fn(model, out)


@pytest.mark.slow
def test_a_model_that_serves_well_is_blessed_one_that_refuses_rows_is_not(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    model = Model(trained["penguins"])
    model.id, model.fingerprint = 7, "sha256:penguins"
    examples = _eval_examples(tmp_path, penguin_rows())
    good = InfraBlessing(tmp_path / "good")
    infra_validate.fn(model, good, examples, requests=5, rows_per_request=2)
    validation = good.load()
    assert validation.blessed, validation.problems
    assert (validation.requests, validation.rows, validation.source) == (5, 10, "eval split")
    assert validation.startup_s is not None and validation.latencies_ms["max"] > 0
    assert good.properties["blessed"] is True and good.properties["model_id"] == 7

    # Logged requests without 'sex' replayed on a model that requires it: refused.
    strict = Model(tmp_path / "strict")
    strict.path.parent.mkdir(exist_ok=True)
    import shutil

    shutil.copytree(trained["penguins"], strict.path)
    require_feature(strict.path, "sex")
    log = tmp_path / "log" / "penguins" / "1"
    log.mkdir(parents=True)
    rows = [{k: v for k, v in row.items() if k != "sex"} for row in penguin_rows()]
    pq.write_table(pa.Table.from_pylist(rows), log / "20260105T120301123456Z-1-000001.parquet")
    bad = InfraBlessing(tmp_path / "bad")
    infra_validate.fn(strict, bad, request_log=tmp_path / "log", requests=3)
    refused = bad.load()
    assert not refused.blessed and refused.source == f"request log {tmp_path / 'log'}"
    assert len(refused.problems) == 3
    assert refused.problems[0].startswith("request 1: answered 400:")
    assert "sex" in refused.problems[0]
    assert refused.summary().startswith("Not infra blessed: request 1: answered 400")


@pytest.mark.slow
def test_a_model_the_server_cannot_load_is_not_blessed(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    broken = Model(tmp_path / "broken")
    shutil.copytree(trained["penguins"], broken.path)
    (broken.path / Model.ONNX_FILENAME).write_bytes(b"not onnx")
    out = InfraBlessing(tmp_path / "out")
    infra_validate.fn(broken, out, _eval_examples(tmp_path, penguin_rows()), startup_timeout_s=30)
    validation = out.load()
    assert not validation.blessed and validation.startup_s is None
    assert validation.problems[0].startswith("the server")
