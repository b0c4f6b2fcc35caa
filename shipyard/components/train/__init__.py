"""The `train` component (TFX Trainer): canned PyTorch estimators, LightGBM trees, `run_fn`.

Modules, by responsibility:

- `estimators`: linear, DNN and wide & deep modules; `boosted_trees` (LightGBM) and
  `tree_onnx`, our converter of tree ensembles to ONNX;
- `custom`: the `TrainContext` a user's `run_fn` receives;
- `data`: the transformed examples as tensors, the label and the task;
- `loop`: the training loop (early stopping, seeding, mixed precision), with `schedules`
  (learning rates) and `checkpoint` (resumable state, no pickle);
- `recorder` and `tensorboard`: the history, TensorBoard event files and live progress;
- `export`: ONNX composed with the transform, safetensors, the signature;
- `component`: the component.

Importing this package imports no torch: torch, lightgbm, onnx and safetensors load inside
the functions that use them.
"""

from shipyard.components.train.component import train

__all__ = ["train"]
