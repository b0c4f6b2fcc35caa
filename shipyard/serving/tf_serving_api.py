"""The TensorFlow Serving REST API: `/v1/models/NAME[/versions/V | /labels/L]...`.

    GET  .../models/NAME[...]            status: {"model_version_status": [...]}
    GET  .../models/NAME[...]/metadata   {"model_spec": ..., "metadata": {"signature_def": ...}}
    POST .../models/NAME[...]:predict    {"instances": [...]} -> {"predictions": [...]}
                                         {"inputs": {...}}    -> {"outputs": ...}
    POST .../models/NAME[...]:classify   {"examples": [...], "context"?} -> {"results": ...}
    POST .../models/NAME[...]:regress    {"examples": [...], "context"?} -> {"results": ...}

Bodies follow TF Serving's implementation. Note that the classify and regress responses are
keyed `results`, as the server writes them, although TF Serving's REST page shows `result`
in one place. The only signature is `serving_default`. Every answer of the three methods
carries the request's id in `X-Request-Id` (see `shipyard.serving.inference`).

    POST .../models/NAME/feedback        {"feedback": [{"request_id", "label", "row"?}]}
                                         -> {"stored": N, "file": ...} (Shipyard's own)
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from shipyard.errors import DataError, NotFoundError
from shipyard.monitoring.feedback import labels_from_json, write_labels
from shipyard.serving.inference import (
    REQUEST_ID_HEADER,
    Call,
    checked_request_id,
    new_request_id,
)
from shipyard.serving.messages import json_response, parse_object, read_body

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    from starlette.requests import Request

    from shipyard.artifacts.exported_model import Signature, TensorSpec
    from shipyard.serving.inference import Inference
    from shipyard.serving.loaded_model import LoadedModel
    from shipyard.serving.registry import ModelRegistry

SIGNATURE_NAME = "serving_default"
METHODS = ("predict", "classify", "regress")
_DT = {"float": "DT_FLOAT", "string": "DT_STRING", "int64": "DT_INT64"}
_TOLIST = operator.methodcaller("tolist")
_PREDICT_KEYS = {"signature_name": False, "instances": False, "inputs": False}
_EXAMPLE_KEYS = {"signature_name": False, "examples": True, "context": False}
_FEEDBACK_KEYS = {"feedback": True}


class TFServingAPI:
    """The `/v1` routes over a registry.

    Example:
        >>> api = TFServingAPI(registry, Inference(registry), max_body_bytes=2**25)
        >>> Starlette(routes=api.routes())
    """

    def __init__(
        self,
        registry: ModelRegistry,
        inference: Inference,
        *,
        max_body_bytes: int,
        log_dir: Path | None = None,
    ) -> None:
        """Serve `registry`; labels posted to `.../feedback` go beside the request log in
        `log_dir` (None: the server keeps no request log, and takes no labels)."""
        self._registry = registry
        self._inference = inference
        self._max_body_bytes = max_body_bytes
        self._log_dir = log_dir

    def routes(self) -> list[Route]:
        """Status, metadata and the three methods, for latest, a version or a label; and
        the model's feedback."""
        routes = [Route("/v1/models/{name}/feedback", self.feedback, methods=["POST"])]
        for selector in ("", "/versions/{version:int}", "/labels/{label}"):
            path = "/v1/models/{name}" + selector
            routes += [  # inference first: routes are tried in turn, and it is the hot one
                Route(path + ":{method}", self.call, methods=["POST"]),
                Route(path, self.status, methods=["GET"]),
                Route(path + "/metadata", self.metadata, methods=["GET"]),
            ]
        return routes

    async def status(self, request: Request) -> Response:
        """Model status: the state of every version, or of the one asked for."""
        name, version, label = _model_spec(request)
        statuses = self._registry.status(name, version=version, label=label)
        return json_response(
            {
                "model_version_status": [
                    {
                        "version": str(s.version),
                        "state": s.state,
                        "status": {"error_code": s.error_code, "error_message": s.error_message},
                    }
                    for s in statuses
                ]
            }
        )

    async def metadata(self, request: Request) -> Response:
        """Model metadata: the signature as TF Serving's `SignatureDefMap`."""
        name, version, label = _model_spec(request)
        with self._registry.acquire(name, version=version, label=label) as model:
            return json_response(
                {
                    "model_spec": {
                        "name": name,
                        "signature_name": "",
                        "version": str(model.version),
                    },
                    "metadata": {"signature_def": signature_def_map(model.signature)},
                }
            )

    async def call(self, request: Request) -> Response:
        """`:predict`, `:classify` or `:regress` (see `Inference.respond`)."""
        name, version, label = _model_spec(request)
        method = request.path_params["method"]
        if method not in METHODS:
            raise HTTPException(
                404, f"Unknown method ':{method}'; use :predict, :classify or :regress."
            )
        sent = request.headers.get(REQUEST_ID_HEADER)
        request_id = None if sent is None else checked_request_id(sent)
        body = await read_body(request, self._max_body_bytes)
        prepare = functools.partial(prepare_call, method, body, request_id)
        answer, request_id = await self._inference.respond(
            name, version=version, label=label, body_bytes=len(body), prepare=prepare
        )
        return Response(
            answer, media_type="application/json", headers={REQUEST_ID_HEADER: request_id}
        )

    async def feedback(self, request: Request) -> Response:
        """Store the labels of earlier requests beside the request log (Shipyard's own).

        Raises:
            NotFoundError: The model is not served, or the server keeps no request log.
            DataError: A bad body; the message names the item and field.
            HTTPException: 503 when the labels could not be written.
        """
        name = request.path_params["name"]
        if name not in self._registry.names:
            raise NotFoundError(
                f"The model {name!r} is not served here (served: "
                f"{', '.join(self._registry.names)})."
            )
        if self._log_dir is None:
            raise NotFoundError(
                "This server keeps no request log, so it takes no feedback: labels are "
                "joined to logged predictions. Start it with --request-log-dir DIR."
            )
        body = await read_body(request, self._max_body_bytes)
        labels = labels_from_json(parse_object(body, keys=_FEEDBACK_KEYS))
        try:
            stored = await run_in_threadpool(write_labels, self._log_dir, name, labels)
        except OSError as exc:
            raise HTTPException(
                503, f"Could not store {labels.num_rows} labels of {name!r}: {exc}. Retry later."
            ) from exc
        return json_response(stored.to_json())


def prepare_call(method: str, body: bytes, request_id: str | None, model: LoadedModel) -> Call:
    """Parse the body of a `:method` request and prepare its call on `model`.

    `request_id` is the client's (checked); None draws one.
    """
    keys = _PREDICT_KEYS if method == "predict" else _EXAMPLE_KEYS
    payload = parse_object(body, keys=keys, exact_integers=model.feed_plan.takes_integers)
    if "signature_name" in payload:
        _check_signature_name(payload)
    return _PREPARE[method](model, payload, request_id or new_request_id())


def predict(model: LoadedModel, payload: dict[str, Any], request_id: str) -> Call:
    """Prepare a predict request, answered in the format it came in: rows or columns.

    Raises:
        DataError: Both or neither of `instances` and `inputs`; bad inputs.
    """
    if ("instances" in payload) == ("inputs" in payload):
        raise DataError(
            "A predict request has either 'instances' (row format) or 'inputs' (columnar "
            "format): exactly one of them."
        )
    if "instances" in payload:
        return Call(model.feed_plan.rows(payload["instances"]), None, _predictions, request_id)
    return Call(model.feed_plan.columns(payload["inputs"]), None, _outputs, request_id)


def classify(model: LoadedModel, payload: dict[str, Any], request_id: str) -> Call:
    """Prepare a classify request: `[[label, score], ...]` per example, from `probabilities`.

    Raises:
        DataError: A regression model; bad examples.
    """
    signature = model.signature
    vocabulary = signature.label_vocabulary
    if signature.task == "regression" or not vocabulary or not signature.output("probabilities"):
        raise DataError(
            f"The model {model.name!r} is a {signature.task} model without class scores; "
            f"use :regress or :predict."
        )
    feed = model.feed_plan.rows(_examples(payload), key="examples")
    return Call(feed, ["probabilities"], functools.partial(_classes, vocabulary), request_id)


def regress(model: LoadedModel, payload: dict[str, Any], request_id: str) -> Call:
    """Prepare a regress request: one value per example, from the `predictions` output.

    Raises:
        DataError: A classification model; bad examples.
    """
    signature = model.signature
    if signature.task != "regression" or not signature.output("predictions"):
        raise DataError(
            f"The model {model.name!r} is a {signature.task} model; use :classify or :predict."
        )
    feed = model.feed_plan.rows(_examples(payload), key="examples")
    return Call(feed, ["predictions"], _values, request_id)


_PREPARE = {"predict": predict, "classify": classify, "regress": regress}


def _predictions(outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Row format: a list of values (one output) or of `{output: value}` objects."""
    columns = list(map(_TOLIST, outputs.values()))
    if len(columns) == 1:
        return {"predictions": columns[0]}
    # One `{output: value}` per row, built in C: dict(zip(names, row)) for each row (a
    # row has one value per output: no `strict`, whose keyword parsing costs each row).
    pair_up = functools.partial(zip, tuple(outputs))
    return {"predictions": list(map(dict, map(pair_up, zip(*columns, strict=True))))}


def _outputs(outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Columnar format: the values (one output) or `{output: values}`."""
    columns = {name: value.tolist() for name, value in outputs.items()}
    return {"outputs": next(iter(columns.values())) if len(columns) == 1 else columns}


def _classes(vocabulary: tuple[str, ...], outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    scores = outputs["probabilities"]
    if scores.ndim == 2 and scores.shape[1] == 1 and len(vocabulary) == 2:
        import numpy as np

        scores = np.hstack([1 - scores, scores])  # P(positive) only: add P(negative)
    return {
        "results": [
            [list(pair) for pair in zip(vocabulary, row, strict=True)] for row in scores.tolist()
        ]
    }


def _values(outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    values = outputs["predictions"]
    return {"results": values.reshape(len(values), -1)[:, 0].tolist()}


def signature_def_map(signature: Signature) -> dict[str, Any]:
    """The signature as TF Serving writes a `SignatureDefMap` in JSON."""
    return {
        "signature_def": {
            SIGNATURE_NAME: {
                "inputs": {spec.name: _tensor_info(spec) for spec in signature.inputs},
                "outputs": {spec.name: _tensor_info(spec) for spec in signature.outputs},
                "method_name": "tensorflow/serving/predict",
            }
        }
    }


def _tensor_info(spec: TensorSpec) -> dict[str, Any]:
    return {
        "dtype": _DT[spec.dtype],
        "tensor_shape": {
            "dim": [{"size": str(-1 if d is None else d), "name": ""} for d in spec.shape],
            "unknown_rank": False,
        },
        "name": spec.name,
    }


def _examples(payload: dict[str, Any]) -> list[Any]:
    """The examples with the shared `context` features merged into each."""
    examples, context = payload["examples"], payload.get("context")
    if context is None:
        return examples  # type: ignore[no-any-return]
    if not isinstance(context, dict):
        raise DataError(f"'context' must be an object of features, got {type(context).__name__}.")
    if not isinstance(examples, list):
        return examples  # type: ignore[no-any-return]  # the feed plan reports it
    merged = []
    for index, example in enumerate(examples):
        if not isinstance(example, dict):
            merged.append(example)  # the feed plan reports it
            continue
        both = sorted(context.keys() & example.keys())
        if both:
            raise DataError(
                f"examples[{index}] repeats the context feature {both[0]!r}; a feature "
                f"is either in 'context' or in the examples."
            )
        merged.append({**context, **example})
    return merged


def _check_signature_name(payload: dict[str, Any]) -> None:
    name = payload.get("signature_name")
    if name not in (None, "", SIGNATURE_NAME):
        raise DataError(
            f'Serving signature name: "{name}" not found in signature def; '
            f'the model has only "{SIGNATURE_NAME}".'
        )


def _model_spec(request: Request) -> tuple[str, int | None, str | None]:
    params = request.path_params
    return params["name"], params.get("version"), params.get("label")
