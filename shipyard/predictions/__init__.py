"""Batch prediction: stream a data file through a model and write the predictions.

The model is an exported model directory run with ONNX Runtime (`LocalPredictor`) or a model
served by `shipyard serve` (`RemotePredictor`, over `shipyard.client`). Either way the data is
read with ingest's readers in record batches, so memory stays bounded however large the
input; the columns are fitted to the model's inputs with errors naming the file, row and
column; and the predictions are written atomically to Parquet, CSV or JSON lines.

The package sits above `serving` (signatures, version directories) and `components` (ingest's
readers); only `cli` imports it. Importing it loads no data library: pyarrow, NumPy and ONNX
Runtime are imported inside the functions that use them.

Modules:

    inputs.py      open the data, check its columns, fit them to the model's inputs
    outputs.py     model outputs as Arrow columns; `PredictionWriter` (atomic files)
    predictors.py  `LocalPredictor`, `RemotePredictor`, `find_model_dir`
    batches.py     the one loop (`predict_batches`), files in and out (`predict_file`), JSON
                   rows sent to a server as they are (`predict_instances`)
"""

from shipyard.predictions.batches import (
    predict_batches,
    predict_file,
    predict_instances,
    write_predictions,
)
from shipyard.predictions.inputs import open_input
from shipyard.predictions.predictors import (
    LocalPredictor,
    Predictor,
    RemotePredictor,
    find_model_dir,
)

__all__ = [
    "LocalPredictor",
    "Predictor",
    "RemotePredictor",
    "find_model_dir",
    "open_input",
    "predict_batches",
    "predict_file",
    "predict_instances",
    "write_predictions",
]
