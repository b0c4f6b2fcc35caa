"""KServe V2, the Open Inference Protocol, over HTTP/JSON: `/v2/...`.

    GET  /v2                                    server metadata
    GET  /v2/health/live, /v2/health/ready      200 when live / when every model has a version
    GET  /v2/models/NAME[/versions/V]           model metadata: versions, platform, tensors
    GET  /v2/models/NAME[/versions/V]/ready     200 when that model (version) is available
    POST /v2/models/NAME[/versions/V]/infer     {"inputs": [{"name", "shape", "datatype",
                                                 "data"}]} -> {"outputs": [...]}

Each input is one value per row: shape `[N]` or `[N, 1]`, data flat or nested. Not ready
answers 400, as the protocol asks (a 4xx), with `{"error": ...}`. The binary tensor
extension is not supported. An infer answer carries the request's id in `X-Request-Id`: the
client's `X-Request-Id` header, else the body's `id`, else a new UUID; the answer's `id`
echoes the body's `id` as the protocol says (the request's id when the body has none).
"""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from shipyard._version import __version__
from shipyard.errors import DataError
from shipyard.serving.feed import Problems
from shipyard.serving.inference import REQUEST_ID_HEADER, Call, checked_request_id
from shipyard.serving.messages import error_response, json_response, parse_object, read_body

if TYPE_CHECKING:
    import numpy as np
    from starlette.requests import Request

    from shipyard.artifacts.exported_model import TensorSpec
    from shipyard.serving.inference import Inference
    from shipyard.serving.loaded_model import LoadedModel
    from shipyard.serving.registry import ModelRegistry

PLATFORM = "onnxruntime_onnx"
"""The platform name Triton uses for ONNX models."""
_DATATYPE = {"float": "FP32", "string": "BYTES", "int64": "INT64"}
_INTEGERS = frozenset({"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32"})
_ACCEPTS = {
    "float": _INTEGERS | {"UINT64", "FP16", "FP32", "FP64"},
    "int64": _INTEGERS,
    "string": frozenset({"BYTES"}),
}
_NUMPY_DATATYPE = {
    "float32": "FP32",
    "float64": "FP64",
    "int64": "INT64",
    "int32": "INT32",
    "bool": "BOOL",
    "object": "BYTES",
}
_INFER_KEYS = {"id": False, "parameters": False, "inputs": True, "outputs": False}


class KServeAPI:
    """The `/v2` routes over a registry.

    Example:
        >>> api = KServeAPI(registry, Inference(registry), max_body_bytes=2**25)
        >>> Starlette(routes=api.routes())
    """

    def __init__(
        self, registry: ModelRegistry, inference: Inference, *, max_body_bytes: int
    ) -> None:
        self._registry = registry
        self._inference = inference
        self._max_body_bytes = max_body_bytes

    def routes(self) -> list[Route]:
        """Server, health and per-model routes, for the latest or a given version."""
        routes = [
            Route("/v2", self.server_metadata, methods=["GET"]),
            Route("/v2/health/live", self.live, methods=["GET"]),
            Route("/v2/health/ready", self.ready, methods=["GET"]),
        ]
        for selector in ("", "/versions/{version:int}"):
            path = "/v2/models/{name}" + selector
            routes += [
                Route(path, self.model_metadata, methods=["GET"]),
                Route(path + "/ready", self.model_ready, methods=["GET"]),
                Route(path + "/infer", self.infer, methods=["POST"]),
            ]
        return routes

    async def server_metadata(self, request: Request) -> Response:
        """Name, version and protocol extensions (none) of the server."""
        return json_response({"name": "shipyard", "version": __version__, "extensions": []})

    async def live(self, request: Request) -> Response:
        """Liveness: the process answers."""
        return json_response({"live": True})

    async def ready(self, request: Request) -> Response:
        """Readiness: every served model has a version available."""
        waiting = [name for name in self._registry.names if not self._registry.is_ready(name)]
        if waiting:
            return error_response(400, f"No version available yet for: {', '.join(waiting)}.")
        return json_response({"ready": True})

    async def model_metadata(self, request: Request) -> Response:
        """Versions, platform, and inputs and outputs with datatype and shape."""
        name, version = _model_spec(request)
        with self._registry.acquire(name, version=version) as model:
            signature = model.signature
            return json_response(
                {
                    "name": name,
                    "versions": [str(v) for v in self._registry.available_versions(name)],
                    "platform": PLATFORM,
                    "inputs": [_tensor_metadata(spec) for spec in signature.inputs],
                    "outputs": [_tensor_metadata(spec) for spec in signature.outputs],
                }
            )

    async def model_ready(self, request: Request) -> Response:
        """200 when the model (or version) takes requests; 404 for an unknown model."""
        name, version = _model_spec(request)
        with self._registry.acquire(name, version=version) as model:
            return json_response({"name": name, "version": str(model.version), "ready": True})

    async def infer(self, request: Request) -> Response:
        """Run the model on V2 tensors (see `Inference.respond`)."""
        name, version = _model_spec(request)
        sent = request.headers.get(REQUEST_ID_HEADER)
        request_id = None if sent is None else checked_request_id(sent)
        body = await read_body(request, self._max_body_bytes)
        prepare = functools.partial(prepare_call, body, request_id)
        answer, request_id = await self._inference.respond(
            name, version=version, body_bytes=len(body), prepare=prepare
        )
        return Response(
            answer, media_type="application/json", headers={REQUEST_ID_HEADER: request_id}
        )


def prepare_call(body: bytes, request_id: str | None, model: LoadedModel) -> Call:
    """Parse an infer request and prepare its call on `model`.

    `request_id` is the client's `X-Request-Id` (checked), which wins over the body's `id`;
    without either, the request's id is a new UUID, as KServe's servers make.
    """
    payload = parse_object(body, keys=_INFER_KEYS, exact_integers=model.feed_plan.takes_integers)
    given = payload.get("id")
    if given is not None and not isinstance(given, str):
        raise DataError(f"'id' must be a string, got {given!r}.")
    wanted = _requested_outputs(model, payload.get("outputs"))
    feed = model.feed_plan.columns(
        _columns(model, payload["inputs"]),
        where=lambda input_name, i: f"input {input_name!r}, element {i}",
    )
    request_id = request_id or given or str(uuid.uuid4())  # KServe's ids, as before
    answer = functools.partial(_answer, model.name, str(model.version), given or request_id)
    return Call(feed, wanted, answer, request_id)


def _answer(
    name: str, version: str, request_id: str, outputs: dict[str, np.ndarray]
) -> dict[str, Any]:
    return {
        "model_name": name,
        "model_version": version,
        "id": request_id,
        "outputs": [_tensor(output, value) for output, value in outputs.items()],
    }


def _columns(model: LoadedModel, inputs: Any) -> dict[str, list[Any]]:
    """Check V2 input tensors against the signature; return `{name: values}`."""
    if not isinstance(inputs, list) or not inputs:
        raise DataError("'inputs' must be a non-empty list of tensors.")
    specs = {spec.name: spec for spec in model.signature.inputs}
    problems = Problems()
    columns: dict[str, list[Any]] = {}
    for index, tensor in enumerate(inputs):
        if not isinstance(tensor, dict) or not {"name", "shape", "datatype", "data"} <= set(tensor):
            problems.add(f"inputs[{index}] must be an object with name, shape, datatype and data")
            continue
        name, shape, datatype, data = (tensor[k] for k in ("name", "shape", "datatype", "data"))
        spec = specs.get(name) if isinstance(name, str) else None
        where = f"inputs[{index}] ({name!r})"
        if spec is None:
            problems.add(f"{where} is not an input of the model (it takes {', '.join(specs)})")
            continue
        if name in columns:
            problems.add(f"{where} is given twice")
            continue
        if datatype not in _ACCEPTS[spec.dtype]:
            problems.add(
                f"{where} has datatype {datatype!r}; the model takes {_DATATYPE[spec.dtype]}"
            )
            continue
        if not (
            isinstance(shape, list)
            and shape
            and all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
            and shape[1:] in ([], [1])
            and shape[0] >= 1
        ):
            problems.add(
                f"{where} has shape {shape!r}; the model takes one value per row: [N] or [N, 1]"
            )
            continue
        values = data if isinstance(data, list) else [data]
        if len(values) != shape[0]:
            problems.add(f"{where} has shape {shape} but {len(values)} values")
            continue
        columns[name] = values
    problems.raise_any()
    return columns


def _requested_outputs(model: LoadedModel, requested: Any) -> list[str] | None:
    if requested is None:
        return None
    names = [spec.name for spec in model.signature.outputs]
    if not isinstance(requested, list) or not all(
        isinstance(item, dict) and isinstance(item.get("name"), str) for item in requested
    ):
        raise DataError("'outputs' must be a list of objects with a 'name'.")
    wanted = [item["name"] for item in requested]
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise DataError(
            f"The model has no output {unknown[0]!r}; its outputs are {', '.join(names)}."
        )
    return wanted


def _tensor(name: str, value: np.ndarray) -> dict[str, Any]:
    return {
        "name": name,
        "datatype": _NUMPY_DATATYPE.get(value.dtype.name, "BYTES"),
        "shape": list(value.shape),
        "data": value.ravel().tolist(),
    }


def _tensor_metadata(spec: TensorSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "datatype": _DATATYPE[spec.dtype],
        "shape": [-1 if d is None else d for d in spec.shape],
    }


def _model_spec(request: Request) -> tuple[str, int | None]:
    return request.path_params["name"], request.path_params.get("version")
