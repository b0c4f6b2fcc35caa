"""The Trainer's module file of TFX's penguin tutorial ("Simple TFX Pipeline", with the
serving signature of the "Model analysis" tutorial so that the Evaluator can feed it
serialized examples).

Runs inside the TFX 1.16 venv (Python 3.10) built by `benchmarks/peers/tfx_env.py`, never in
Shipyard's. A Keras DNN (two hidden layers of 8) over the four measurements, predicting the
species index; `Trainer` calls `run_fn` with 100 train steps and 5 eval steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import tensorflow as tf
from tensorflow_transform.tf_metadata import schema_utils
from tfx_bsl.public import tfxio

if TYPE_CHECKING:
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx import v1 as tfx

try:  # TF 2.16 ships Keras 3; TFX 1.16 saves SavedModels through tf-keras (Keras 2)
    import tf_keras as keras
except ImportError:  # pragma: no cover - older TF
    from tensorflow import keras

FEATURE_KEYS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
LABEL_KEY = "species"
TRAIN_BATCH_SIZE = 20
EVAL_BATCH_SIZE = 10
# The tutorial leaves the seed unset; one seed for the weights and the shuffling makes every
# run do the same work (an unlucky start left the model below the Evaluator's threshold).
SEED = 0

FEATURE_SPEC = {
    **{key: tf.io.FixedLenFeature(shape=[1], dtype=tf.float32) for key in FEATURE_KEYS},
    LABEL_KEY: tf.io.FixedLenFeature(shape=[1], dtype=tf.int64),
}


def _input_fn(
    file_pattern: list[str],
    data_accessor: tfx.components.DataAccessor,
    schema: schema_pb2.Schema,
    batch_size: int,
) -> tf.data.Dataset:
    """Batches of (features, label) read from the Examples' TFRecord files, repeated."""
    options = tfxio.TensorFlowDatasetOptions(
        batch_size=batch_size, label_key=LABEL_KEY, shuffle_seed=SEED
    )
    return data_accessor.tf_dataset_factory(file_pattern, options, schema=schema).repeat()


def _build_keras_model() -> Any:
    """The tutorial's DNN: the four inputs concatenated, Dense(8) x 2, three logits."""
    inputs = [keras.layers.Input(shape=(1,), name=key) for key in FEATURE_KEYS]
    hidden = keras.layers.concatenate(inputs)
    for _ in range(2):
        hidden = keras.layers.Dense(8, activation="relu")(hidden)
    outputs = keras.layers.Dense(3)(hidden)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def _serving_signature(model: Any) -> Any:
    """`serving_default`: serialized tf.Examples in, logits out (what TFMA calls)."""
    feature_spec = {key: FEATURE_SPEC[key] for key in FEATURE_KEYS}

    @tf.function(  # type: ignore[untyped-decorator]
        input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")]
    )
    def serve(serialized: tf.Tensor) -> tf.Tensor:
        return model(tf.io.parse_example(serialized, feature_spec))

    return serve


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Train the model for `fn_args.train_steps` steps and save it for serving."""
    keras.utils.set_random_seed(SEED)
    schema = schema_utils.schema_from_feature_spec(FEATURE_SPEC)
    train = _input_fn(fn_args.train_files, fn_args.data_accessor, schema, TRAIN_BATCH_SIZE)
    evaluation = _input_fn(fn_args.eval_files, fn_args.data_accessor, schema, EVAL_BATCH_SIZE)
    model = _build_keras_model()
    model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        validation_data=evaluation,
        validation_steps=fn_args.eval_steps,
        verbose=0,
    )
    signatures = {"serving_default": _serving_signature(model)}
    model.save(fn_args.serving_model_dir, save_format="tf", signatures=signatures)
