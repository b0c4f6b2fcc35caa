"""The `train` component (TFX Trainer) and its canned PyTorch estimators.

Modules, by responsibility: `estimators` (linear, DNN and wide & deep modules), `data` (the
transformed examples as tensors; the label and the task), `loop` (the training loop: early
stopping, reproducible seeding), `export` (ONNX composed with the transform, safetensors,
the signature), `component` (the component). Importing this package imports no torch:
torch, onnx and safetensors load inside the functions that use them.
"""

from shipyard.components.train.component import train

__all__ = ["train"]
