"""The OpenAPI 3.1 description of the server, served at `GET /openapi.json`.

It describes both protocols with request and response schemas: the TF Serving REST API for
the latest version, a version and a label, KServe V2 for the latest version and a version,
`/metrics`, and Shipyard's own `POST /v1/models/{name}/feedback`. Every inference answer has
the `X-Request-Id` header, which a client may send. Model names are an enum of the served
models. A model's own inputs are not in it (they change with versions): its metadata
endpoints give them.
"""

from __future__ import annotations

from typing import Any

from shipyard._version import __version__

JSON = "application/json"
_REF = "#/components/schemas/"
_SCALAR: dict[str, Any] = {"type": ["number", "string", "null"]}
_B64: dict[str, Any] = {
    "type": "object",
    "properties": {"b64": {"type": "string", "contentEncoding": "base64"}},
    "required": ["b64"],
    "additionalProperties": False,
}
_VALUE: dict[str, Any] = {
    "description": "A feature value: a number, a string, null (missing), a one-element "
    "list of one of these, or base64 text as {'b64': ...}.",
    "anyOf": [_SCALAR, {"type": "array", "items": _SCALAR, "maxItems": 1}, _B64],
}
_STRING = {"type": "string"}
_DATATYPES = ["BYTES", "FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64"]
_DATATYPES += ["UINT8", "UINT16", "UINT32", "UINT64"]
_STRINGS = {"type": "array", "items": _STRING}
_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "properties": {"error": _STRING},
        "required": ["error"],
        "additionalProperties": False,
    },
    "FeatureValue": _VALUE,
    "Row": {"type": "object", "additionalProperties": {"$ref": _REF + "FeatureValue"}},
    "PredictRequest": {
        "type": "object",
        "description": "Exactly one of 'instances' (rows) and 'inputs' (columns).",
        "properties": {
            "signature_name": {"type": "string", "enum": ["", "serving_default"]},
            "instances": {
                "type": "array",
                "minItems": 1,
                "items": {"anyOf": [{"$ref": _REF + "Row"}, {"$ref": _REF + "FeatureValue"}]},
            },
            "inputs": {
                "anyOf": [
                    {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {
                            "type": "array",
                            "items": {"$ref": _REF + "FeatureValue"},
                        },
                    },
                    {"type": "array", "minItems": 1, "items": {"$ref": _REF + "FeatureValue"}},
                ]
            },
        },
        "oneOf": [{"required": ["instances"]}, {"required": ["inputs"]}],
        "additionalProperties": False,
    },
    "PredictResponse": {
        "oneOf": [
            {
                "type": "object",
                "properties": {"predictions": {"type": "array"}},
                "required": ["predictions"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"outputs": {"type": ["object", "array"]}},
                "required": ["outputs"],
                "additionalProperties": False,
            },
        ]
    },
    "ExamplesRequest": {
        "type": "object",
        "properties": {
            "signature_name": {"type": "string", "enum": ["", "serving_default"]},
            "examples": {"type": "array", "minItems": 1, "items": {"$ref": _REF + "Row"}},
            "context": {"$ref": _REF + "Row"},
        },
        "required": ["examples"],
        "additionalProperties": False,
    },
    "ClassifyResponse": {
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "array",
                    "description": "[label, score] for every class.",
                    "items": {
                        "type": "array",
                        "prefixItems": [_STRING, {"type": "number"}],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
            }
        },
        "required": ["results"],
        "additionalProperties": False,
    },
    "RegressResponse": {
        "type": "object",
        "properties": {"results": {"type": "array", "items": {"type": "number"}}},
        "required": ["results"],
        "additionalProperties": False,
    },
    "ModelStatus": {
        "type": "object",
        "properties": {
            "model_version_status": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "version": _STRING,
                        "state": {"enum": ["LOADING", "AVAILABLE", "END"]},
                        "status": {
                            "type": "object",
                            "properties": {"error_code": _STRING, "error_message": _STRING},
                            "required": ["error_code", "error_message"],
                        },
                    },
                    "required": ["version", "state", "status"],
                },
            }
        },
        "required": ["model_version_status"],
    },
    "ModelMetadata": {
        "type": "object",
        "properties": {
            "model_spec": {
                "type": "object",
                "properties": {"name": _STRING, "signature_name": _STRING, "version": _STRING},
                "required": ["name", "signature_name", "version"],
            },
            "metadata": {
                "type": "object",
                "properties": {"signature_def": {"type": "object"}},
                "required": ["signature_def"],
            },
        },
        "required": ["model_spec", "metadata"],
    },
    "ServerMetadata": {
        "type": "object",
        "properties": {"name": _STRING, "version": _STRING, "extensions": _STRINGS},
        "required": ["name", "version", "extensions"],
    },
    "TensorMetadata": {
        "type": "object",
        "properties": {
            "name": _STRING,
            "datatype": _STRING,
            "shape": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["name", "datatype", "shape"],
    },
    "ModelMetadataV2": {
        "type": "object",
        "properties": {
            "name": _STRING,
            "versions": _STRINGS,
            "platform": _STRING,
            "inputs": {"type": "array", "items": {"$ref": _REF + "TensorMetadata"}},
            "outputs": {"type": "array", "items": {"$ref": _REF + "TensorMetadata"}},
        },
        "required": ["name", "versions", "platform", "inputs", "outputs"],
    },
    "ModelReady": {
        "type": "object",
        "properties": {"name": _STRING, "version": _STRING, "ready": {"const": True}},
        "required": ["name", "version", "ready"],
    },
    "InferRequest": {
        "type": "object",
        "properties": {
            "id": _STRING,
            "parameters": {"type": "object"},
            "inputs": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": _STRING,
                        "shape": {
                            "type": "array",
                            "items": {"type": "integer", "minimum": 1},
                            "minItems": 1,
                            "maxItems": 2,
                        },
                        "datatype": {"enum": _DATATYPES},
                        "data": {"type": "array"},
                        "parameters": {"type": "object"},
                    },
                    "required": ["name", "shape", "datatype", "data"],
                },
            },
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": _STRING, "parameters": {"type": "object"}},
                    "required": ["name"],
                },
            },
        },
        "required": ["inputs"],
        "additionalProperties": False,
    },
    "InferResponse": {
        "type": "object",
        "properties": {
            "model_name": _STRING,
            "model_version": _STRING,
            "id": _STRING,
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": _STRING,
                        "datatype": _STRING,
                        "shape": {"type": "array", "items": {"type": "integer"}},
                        "data": {"type": "array"},
                    },
                    "required": ["name", "datatype", "shape", "data"],
                },
            },
        },
        "required": ["model_name", "model_version", "id", "outputs"],
    },
}
_SCHEMAS["FeedbackRequest"] = {
    "type": "object",
    "properties": {
        "feedback": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "request_id": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 128,
                        "description": "The X-Request-Id of the answer the label is for.",
                    },
                    "label": {
                        "type": ["string", "number", "boolean"],
                        "description": "The true label: a class name, or a number.",
                    },
                    "row": {
                        "type": "integer",
                        "minimum": 0,
                        "default": 0,
                        "description": "The row's index in its request.",
                    },
                },
                "required": ["request_id", "label"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["feedback"],
    "additionalProperties": False,
}
_SCHEMAS["FeedbackResponse"] = {
    "type": "object",
    "properties": {"stored": {"type": "integer"}, "file": _STRING},
    "required": ["stored", "file"],
}
_REQUEST_ID: dict[str, Any] = {
    "name": "X-Request-Id",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$"},
    "description": "The request's id (visible ASCII); default: one the server draws. The "
    "answer carries it, and the request log writes it; labels are sent for it later.",
}
_ERRORS = {
    "400": "Bad input: the message names the value and what was expected.",
    "404": "No such model, version, label or route, or the version is not loaded.",
    "413": "The body is over --max-body-bytes.",
    "503": "Batching is on and the version's queue is full (load shedding): retry later.",
}
_FEEDBACK_ERRORS = {
    "400": "Bad labels: the message names the item and field (feedback[3].label).",
    "404": "No such model, or the server keeps no request log (--request-log-dir).",
    "413": _ERRORS["413"],
    "503": "The labels could not be written: retry later.",
}


def openapi_document(model_names: list[str]) -> dict[str, Any]:
    """Return the OpenAPI document for a server serving `model_names`."""
    names = {"type": "string", "enum": model_names}
    params = {
        "name": _param("name", names, "The model's name."),
        "version": _param("version", {"type": "integer", "minimum": 0}, "A version number."),
        "label": _param("label", _STRING, "A version label from the model config."),
    }
    paths: dict[str, Any] = {}
    for selector, keys in (
        ("", ["name"]),
        ("/versions/{version}", ["name", "version"]),
        ("/labels/{label}", ["name", "label"]),
    ):
        base = "/v1/models/{name}" + selector
        where = [params[key] for key in keys]
        paths[base] = {"get": _get("TF Serving: the state of the versions.", "ModelStatus", where)}
        paths[base + "/metadata"] = {
            "get": _get("TF Serving: the signature as a SignatureDefMap.", "ModelMetadata", where)
        }
        for method, request, response in (
            ("predict", "PredictRequest", "PredictResponse"),
            ("classify", "ExamplesRequest", "ClassifyResponse"),
            ("regress", "ExamplesRequest", "RegressResponse"),
        ):
            paths[f"{base}:{method}"] = {
                "post": _post(f"TF Serving: {method}.", request, response, where, inference=True)
            }
    paths["/v1/models/{name}/feedback"] = {
        "post": {
            **_post(
                "Shipyard: store the true labels of earlier requests, for decay detection.",
                "FeedbackRequest",
                "FeedbackResponse",
                [params["name"]],
            ),
            "responses": {
                "200": _answer("Stored.", "FeedbackResponse"),
                **{code: _answer(text, "Error") for code, text in _FEEDBACK_ERRORS.items()},
            },
        }
    }
    paths["/v2"] = {"get": _get("KServe V2: server metadata.", "ServerMetadata", [])}
    paths["/v2/health/live"] = {"get": _get("KServe V2: liveness.", None, [])}
    paths["/v2/health/ready"] = {"get": _get("KServe V2: every model has a version.", None, [])}
    for selector, keys in (("", ["name"]), ("/versions/{version}", ["name", "version"])):
        base = "/v2/models/{name}" + selector
        where = [params[key] for key in keys]
        paths[base] = {"get": _get("KServe V2: model metadata.", "ModelMetadataV2", where)}
        paths[base + "/ready"] = {"get": _get("KServe V2: model readiness.", "ModelReady", where)}
        paths[base + "/infer"] = {
            "post": _post(
                "KServe V2: inference.", "InferRequest", "InferResponse", where, inference=True
            )
        }
    paths["/metrics"] = {
        "get": {
            "summary": "Prometheus metrics in the text format.",
            "responses": {"200": {"description": "Metrics.", "content": {"text/plain": {}}}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shipyard model server",
            "version": __version__,
            "description": "TensorFlow Serving's REST API (/v1) and KServe V2 (/v2).",
        },
        "paths": paths,
        "components": {"schemas": _SCHEMAS},
    }


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def _answer(description: str, schema: str | None) -> dict[str, Any]:
    body = {"type": "object"} if schema is None else {"$ref": _REF + schema}
    return {"description": description, "content": {JSON: {"schema": body}}}


def _errors(codes: tuple[str, ...]) -> dict[str, Any]:
    return {code: _answer(_ERRORS[code], "Error") for code in codes}


def _get(summary: str, schema: str | None, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": params,
        "responses": {"200": _answer("OK.", schema), **_errors(("400", "404"))},
    }


def _post(
    summary: str,
    request: str,
    response: str,
    params: list[dict[str, Any]],
    *,
    inference: bool = False,
) -> dict[str, Any]:
    """A POST operation; an inference one takes and answers `X-Request-Id`."""
    ok = _answer("OK.", response)
    if inference:
        header = {"description": "The request's id.", "schema": _STRING}
        ok["headers"] = {"X-Request-Id": header}
    return {
        "summary": summary,
        "parameters": [*params, _REQUEST_ID] if inference else params,
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"$ref": _REF + request}}},
        },
        "responses": {"200": ok, **_errors(("400", "404", "413", "503"))},
    }
