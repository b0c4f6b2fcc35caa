"""The transform component in real runs: penguins ingest -> statistics -> schema -> transform."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pyarrow.csv as pacsv

from shipyard import Pipeline
from shipyard.artifacts import DataSchema, FeatureSchema
from shipyard.components import compute_statistics, infer_schema, ingest, transform
from shipyard.components.transform.apply import apply
from shipyard.components.transform.defaults import default_preprocessing
from shipyard.components.transform.fit import raw_columns
from shipyard.components.transform.fitted import OUTPUT_PREFIX, FittedTransform
from shipyard.components.transform.onnx_export import onnx_feed
from tests.conftest import Workspace

PENGUINS = Path(__file__).resolve().parents[3] / "examples" / "penguins" / "data" / "penguins.csv"
NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]

PREPROCESSING = """
from shipyard.components.transform import bucketize, cross, impute, scale_to_z_score, vocabulary


def features(columns):
    island = vocabulary(columns["island"])
    return {
        "bill": scale_to_z_score(impute(columns["bill_length_mm"], "median")),
        "mass_bucket": bucketize(impute(columns["body_mass_g"]), 4),
        "island_sex": cross(island, vocabulary(columns["sex"]), 10),
        "species": vocabulary(columns["species"], num_oov_buckets=1),
    }
"""


def penguins(**options: object) -> Pipeline:
    raw = ingest(source=str(PENGUINS), splits={"train": 8, "eval": 2})
    stats = compute_statistics(examples=raw.outputs.examples)
    schema = infer_schema(statistics=stats.outputs.statistics, label="species")
    prepared = transform(
        examples=raw.outputs.examples,
        schema=schema.outputs.schema,
        **options,  # type: ignore[arg-type]
    )
    return Pipeline("penguins_transform", nodes=[prepared])


def check_serving_parity(fitted: FittedTransform, model: bytes, rows: pa.Table) -> None:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    import onnx

    proto = onnx.load_from_string(model)
    served = session.run(None, onnx_feed(fitted, rows, proto))
    expected = apply(fitted, rows, outputs=fitted.serving_outputs())
    for output, value in zip(session.get_outputs(), served, strict=True):
        name = output.name.removeprefix(OUTPUT_PREFIX)
        np.testing.assert_allclose(
            expected.column(name).to_numpy(), value[:, 0], rtol=1e-6, atol=1e-6, err_msg=name
        )


def test_defaults_from_the_inferred_schema(workspace: Workspace) -> None:
    result = workspace.run(penguins())
    assert result.ok, [n.error for n in result.failed]
    graph = result["transform"].outputs["transform_graph"]
    spec = graph.spec()
    assert sorted(graph.files()) == ["transform.json", "transform.onnx"]
    fitted = FittedTransform.from_spec(spec)
    assert fitted.label == "species"
    assert fitted.label_vocabulary == ["Adelie", "Gentoo", "Chinstrap"]
    assert set(spec["onnx"]["outputs"]) == {*NUMBERS, "island", "sex"}
    assert "species" not in spec["onnx"]["inputs"]
    transformed = result["transform"].outputs["transformed"]
    assert transformed.splits == ["eval", "train"]
    train = transformed.read("train")
    assert train.schema.field("bill_length_mm").type == pa.float32()
    assert train.schema.field("species").type == pa.int64()
    # z-scores over the train split: mean 0, std 1, and no missing value left
    bill = train.column("bill_length_mm").to_numpy()
    assert abs(bill.mean()) < 1e-5 and abs(bill.std() - 1) < 1e-2
    assert not np.isnan(bill).any()
    assert transformed.read("eval").num_rows + train.num_rows == 344
    # the same raw rows (served: no label) through the exported graph
    rows = pacsv.read_csv(PENGUINS).drop_columns(["species"])
    check_serving_parity(fitted, graph.read_onnx(), rows)
    json.dumps(graph.preview())


def test_a_preprocessing_file(workspace: Workspace) -> None:
    file = workspace.root / "prep.py"
    file.write_text(PREPROCESSING)
    result = workspace.run(
        penguins(preprocessing_file=str(file), preprocessing_function="features")
    )
    assert result.ok, [n.error for n in result.failed]
    graph = result["transform"].outputs["transform_graph"]
    fitted = FittedTransform.from_spec(graph.spec())
    assert sorted(fitted.outputs) == ["bill", "island_sex", "mass_bucket", "species"]
    train = result["transform"].outputs["transformed"].read("train")
    assert set(train.column("mass_bucket").to_pylist()) == {0, 1, 2, 3}
    check_serving_parity(fitted, graph.read_onnx(), pacsv.read_csv(PENGUINS))


def test_a_missing_function_fails_the_node_naming_it(workspace: Workspace) -> None:
    file = workspace.root / "prep.py"
    file.write_text(PREPROCESSING)
    result = workspace.run(penguins(preprocessing_file=str(file)))
    assert not result.ok
    [failed] = result.failed
    message = str(failed.error)
    assert "DefinitionError" in message and "no function 'preprocessing'" in message
    assert "the functions defined there are features." in message


def test_the_train_split_must_exist(workspace: Workspace) -> None:
    result = workspace.run(penguins(split="training"))
    assert not result.ok
    assert "fits on split 'training'" in str(result.failed[0].error)
    assert "eval, train" in str(result.failed[0].error)


def test_defaults_from_a_schema() -> None:
    table = pa.table(
        {
            "x": [1.0, 2.0],
            "few": ["a", "b"],
            "many": ["a", "b"],
            "domain": ["a", "b"],
            "y": ["p", "q"],
            "t": pa.array([0, 1], pa.timestamp("s")),
        }
    )
    schema = DataSchema(
        {
            "x": FeatureSchema("x", "float"),
            "few": FeatureSchema("few", "string"),
            "many": FeatureSchema("many", "string"),
            "domain": FeatureSchema("domain", "string", domain=("a", "b")),
            "y": FeatureSchema("y", "string", not_in=("SERVING",)),
            "t": FeatureSchema("t", "timestamp"),
            "absent": FeatureSchema("absent", "float"),
        }
    )
    outputs = default_preprocessing(
        schema, raw_columns(table), label="y", distinct_values={"many": 5000, "domain": 5000}
    )
    assert {name: e.describe() for name, e in outputs.items()} == {
        "x": "z_score(impute(column('x')))",
        "few": "vocabulary(column('few'))",
        "many": "hash_buckets(column('many'))",
        "domain": "vocabulary(column('domain'))",
        "y": "vocabulary(column('y'))",
    }
