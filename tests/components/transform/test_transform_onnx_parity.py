"""THE contract: the training path (`apply`) and the exported ONNX graph give identical inputs.

For many raw rows, with missing values, unseen categories and values outside the training
range, `apply(fitted, rows)` equals onnxruntime running `transform.onnx` on the same rows:
exactly for ids, to 1e-6 for floats.
"""

from __future__ import annotations

import random

import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pytest

from shipyard.components.transform import (
    Columns,
    Expr,
    bucketize,
    cross,
    hash_buckets,
    impute,
    log1p,
    scale_min_max,
    scale_to_z_score,
    vocabulary,
)
from shipyard.components.transform.apply import apply
from shipyard.components.transform.fit import build_outputs, fit
from shipyard.components.transform.fitted import OUTPUT_PREFIX, FittedTransform
from shipyard.components.transform.onnx_export import export_onnx, onnx_feed

WORDS = [f"w{i}" for i in range(40)]


def raw_rows(rows: int, seed: int, *, unseen: bool) -> pa.Table:
    rng = random.Random(seed)

    def maybe(value: object, missing: float = 0.1) -> object:
        return None if rng.random() < missing else value

    words = WORDS + (["never", "seen", "Ünïcode ✓"] if unseen else [])
    return pa.table(
        {
            "num": [maybe(rng.gauss(50.0, 20.0) * (10 if unseen else 1)) for _ in range(rows)],
            "count": pa.array([maybe(rng.randint(-3, 1000)) for _ in range(rows)], pa.int64()),
            "flag": [maybe(rng.random() < 0.3) for _ in range(rows)],
            "word": [
                maybe(rng.choice(words[: 10 + rng.randint(0, len(words) - 10)]))
                for _ in range(rows)
            ],
            "city": [maybe(rng.choice(words)) for _ in range(rows)],
            "label": [rng.choice(["yes", "no", "maybe"]) for _ in range(rows)],
        }
    )


def preprocessing(c: Columns) -> dict[str, Expr]:
    num = impute(c["num"], "median")
    word = vocabulary(c["word"], top_k=8, num_oov_buckets=3)
    return {
        "num_z": scale_to_z_score(num),
        "num_raw_z": scale_to_z_score(c["num"]),
        "num_mm": scale_min_max(c["num"]),
        "count_log": log1p(impute(c["count"], "constant", value=0.0)),
        "count_raw_log": log1p(c["count"]),
        "count_bucket": bucketize(c["count"], 10),
        "flag": impute(c["flag"], "mean"),
        "word": word,
        "word_imputed": vocabulary(impute(c["word"], "most_frequent")),
        "word_const": vocabulary(impute(c["word"], "constant", value="w0")),
        "city_hash": hash_buckets(c["city"], 16),
        "cross": cross(word, bucketize(num, 5), 20),
        "passthrough": c["num"],
        "label": vocabulary(c["label"]),
    }


@pytest.fixture(scope="module")
def fitted() -> FittedTransform:
    train = raw_rows(2000, seed=1, unseen=False)
    return fit(build_outputs(preprocessing, train, where="test"), train, label="label")


def run_onnx(
    fitted: FittedTransform, rows: pa.Table, outputs: list[str] | None
) -> dict[str, np.ndarray]:
    model = export_onnx(fitted, outputs=outputs)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    results = session.run(None, onnx_feed(fitted, rows, model))
    return {
        name.removeprefix(OUTPUT_PREFIX): value for name, value in zip(names, results, strict=True)
    }


@pytest.mark.parametrize("seed", [2, 3])
def test_the_training_path_and_the_exported_graph_agree(fitted: FittedTransform, seed: int) -> None:
    rows = raw_rows(3000, seed=seed, unseen=True)
    expected = apply(fitted, rows)
    served = run_onnx(fitted, rows, outputs=list(fitted.outputs))
    assert sorted(served) == sorted(fitted.outputs)
    for name in fitted.outputs:
        ours = expected.column(name).to_numpy()
        theirs = served[name]
        assert theirs.shape == (rows.num_rows, 1), name
        theirs = theirs[:, 0]
        if fitted.nodes[fitted.outputs[name]].kind == "id":
            assert theirs.dtype == np.int64 and ours.dtype == np.int64, name
            np.testing.assert_array_equal(ours, theirs, err_msg=name)
        else:
            assert theirs.dtype == np.float32 and ours.dtype == np.float32, name
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6, err_msg=name)
    # the rows do exercise missing values, unseen categories and NaN outputs
    assert np.isnan(expected.column("num_raw_z").to_numpy()).any()
    word_ids = expected.column("word").to_numpy()
    assert (word_ids == 8).any() and (word_ids > 8).any()
    assert (expected.column("city_hash").to_numpy() == 16).any()


def test_the_default_export_is_the_serving_graph_without_the_label(fitted: FittedTransform) -> None:
    rows = raw_rows(50, seed=4, unseen=True).drop_columns(["label"])
    served = run_onnx(fitted, rows, outputs=None)
    assert "label" not in served
    assert sorted(served) == sorted(set(fitted.outputs) - {"label"})
    expected = apply(fitted, rows, outputs=fitted.serving_outputs())
    np.testing.assert_array_equal(expected.column("word").to_numpy(), served["word"][:, 0])
    assert fitted.label_vocabulary is not None
    assert sorted(fitted.label_vocabulary) == ["maybe", "no", "yes"]


def test_one_raw_row_at_a_time(fitted: FittedTransform) -> None:
    rows = raw_rows(20, seed=5, unseen=True)
    for index in range(rows.num_rows):
        row = rows.slice(index, 1)
        served = run_onnx(fitted, row, outputs=None)
        ours = apply(fitted, row, outputs=fitted.serving_outputs())
        for name, value in served.items():
            np.testing.assert_allclose(
                ours.column(name).to_numpy(), value[:, 0], rtol=1e-6, atol=1e-6, err_msg=name
            )
