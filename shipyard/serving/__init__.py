"""Serving: exported models over HTTP with the TensorFlow Serving REST API and KServe V2.

The layer reads a model repository (`BASE/NAME/VERSION/`, as `push` writes it), keeps one
ONNX Runtime session per served version, reloads new versions without dropping requests,
and answers JSON over Starlette; it can batch requests server-side, send a canary share of
them to a second version, log a sample to Parquet and run several worker processes. It may
import `shipyard.artifacts`, `shipyard.config`, `shipyard.io` and `shipyard.errors`; never
`components`, `runners`, `engines` or `store`: it loads exported models only. Starlette,
uvicorn, NumPy, ONNX Runtime, PyArrow and prometheus_client are imported by the modules
that need them, never by `shipyard --help`.

The exported model's files and `signature.json` are read through
`shipyard.artifacts.exported_model`, the one owner of that format.

Modules, from the disk up:

    config.py          what to serve: model configs (YAML, JSON, TF Serving text proto), canaries,
                       batching, options
    text_proto.py      the small subset of protobuf text format TF Serving configs use
    labels.py          stable and canary labels written to a model config (push, promote)
    repository.py      version directories under a base path; version policies
    feed.py            JSON values -> ONNX Runtime feeds, with errors naming feature and row
    loaded_model.py    one version: an ONNX Runtime session, warm-up, in-flight requests
    registry.py        the versions served per model; sync with the disk; routing, canaries
    reload.py          the thread that polls base paths (and the config file), syncs the registry
    batching.py        TF Serving's batching: a queue per version, shared batch threads
    request_log.py     a sample of requests and predictions, buffered, written to Parquet
    metrics.py         Prometheus metrics and the middleware that counts requests
    messages.py        JSON bodies in and out: size limit, parsing, errors
    inference.py       one inference request: prepare, run (batched or not), answer, log
    tf_serving_api.py  /v1/models/...: status, metadata, predict, classify, regress
    kserve_api.py      /v2/...: health, metadata, readiness, infer
    openapi.py         the OpenAPI document at /openapi.json
    app.py             the Starlette app, worker processes and `serve`
"""
