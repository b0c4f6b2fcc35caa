"""TFX's penguin tutorial pipeline, the peer of `shipyard run examples/penguins/pipeline.py`.

CsvExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Trainer (the Keras DNN of
`trainer.py`, 100 train steps, 5 eval steps) -> Evaluator (TFMA, sparse categorical accuracy
>= 0.6 and no worse than the latest blessed model, as in the tutorial's config) -> Pusher
(to a directory), run by `LocalDagRunner` with ML Metadata in SQLite. The components and
their settings are the ones of TFX's "Simple TFX Pipeline", "Data validation" and "Model
analysis" tutorials put together.

Runs in the TFX 1.16 venv (Python 3.10) that `benchmarks/peers/tfx_env.py` builds:

    python pipeline.py --data DIR --root DIR

`--data` holds the CSV of `tutorial_data.py`; `--root` receives the artifacts, the metadata
database and the pushed model. Run it twice with the same `--root` and the second run is
TFX's cached rerun.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx

TRAINER = Path(__file__).resolve().parent / "trainer.py"
NAME = "penguin-tutorial"


def create_pipeline(data: Path, root: Path) -> tfx.dsl.Pipeline:
    """The tutorial's seven components, wired as in TFX's penguin tutorials."""
    example_gen = tfx.components.CsvExampleGen(input_base=str(data))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(
        statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True
    )
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    trainer = tfx.components.Trainer(
        module_file=str(TRAINER),
        examples=example_gen.outputs["examples"],
        train_args=tfx.proto.TrainArgs(num_steps=100),
        eval_args=tfx.proto.EvalArgs(num_steps=5),
    )
    resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    accuracy = tfma.MetricConfig(
        class_name="SparseCategoricalAccuracy",
        threshold=tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": 0.6}),
            change_threshold=tfma.GenericChangeThreshold(
                direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -1e-10}
            ),
        ),
    )
    eval_config = tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(label_key="species")],
        metrics_specs=[
            tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount"), accuracy])
        ],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["species"])],
    )
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=resolver.outputs["model"],
        eval_config=eval_config,
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=str(root / "serving_model")
            )
        ),
    )
    return tfx.dsl.Pipeline(
        pipeline_name=NAME,
        pipeline_root=str(root / "pipelines"),
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.db")
        ),
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            trainer,
            resolver,
            evaluator,
            pusher,
        ],
        enable_cache=True,
    )


def main() -> None:
    """Run the pipeline once; exit non-zero when no model was pushed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the tutorial CSV's directory")
    parser.add_argument("--root", type=Path, required=True, help="artifacts and metadata")
    args = parser.parse_args()
    tfx.orchestration.LocalDagRunner().run(create_pipeline(args.data, args.root))
    pushed = root_models(args.root / "serving_model")
    if not pushed:
        raise SystemExit(
            f"TFX pushed no model to {args.root / 'serving_model'}: the Evaluator did not "
            "bless it. See the Evaluator's output under "
            f"{args.root / 'pipelines' / 'Evaluator'}."
        )


def root_models(directory: Path) -> list[Path]:
    """The model versions Pusher wrote under `directory`."""
    return sorted(directory.iterdir()) if directory.is_dir() else []


if __name__ == "__main__":
    main()
