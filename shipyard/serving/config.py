"""What to serve and how: model configs, version policies and server options.

A model config file lists the models to serve. `.yaml`, `.yml` and `.json` files hold

    models:
      - name: penguins
        base_path: models/penguins       # the directory holding the version directories
        version_policy: latest           # latest | all | {latest: 2} | {specific: [1, 3]}
        labels: {stable: 1, canary: 2}
        canary: {version: 2, percent: 10}  # 10% of unlabeled requests go to version 2
    batching:                            # optional: server-side batching, on for every model
      max_batch_size: 32
      batch_timeout_micros: 1000

Any other file is read as TensorFlow Serving's `model_config_list` in protobuf text format
(`name`, `base_path`, `model_platform` (ignored), `model_version_policy`,
`version_labels`). A relative `base_path` resolves against the config file's directory.
The server options (`ServerOptions`) are what the command's flags set.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shipyard.errors import ConfigError, InvalidParameterError
from shipyard.io.atomic import write_text_atomically

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

DEFAULT_PORT = 8501
DEFAULT_MAX_BODY_BYTES = 32 * 2**20
_NAME_RULE = "a directory name (no '/', '\\\\' or ':', no '..', not starting with a dot)"


@dataclass(frozen=True)
class VersionPolicy:
    """Which version directories of a model to serve.

    Attributes:
        kind: `latest` (the highest `num_versions` loadable versions), `all`, or `specific`.
        num_versions: How many versions `latest` serves.
        versions: The versions `specific` serves.
    """

    kind: Literal["latest", "all", "specific"] = "latest"
    num_versions: int = 1
    versions: frozenset[int] = frozenset()

    def select(self, versions: Collection[int]) -> set[int]:
        """Return the versions to serve among the loadable `versions` on disk."""
        if self.kind == "all":
            return set(versions)
        if self.kind == "specific":
            return set(self.versions & set(versions))
        return set(sorted(versions, reverse=True)[: self.num_versions])

    def describe(self) -> str:
        """Return the policy in words, e.g. `latest 2`."""
        if self.kind == "specific":
            return "specific " + ", ".join(map(str, sorted(self.versions)))
        return f"latest {self.num_versions}" if self.kind == "latest" else "all"


@dataclass(frozen=True)
class Canary:
    """A share of a model's unlabeled requests sent to one version.

    Attributes:
        version: The canary version; the other requests go to the newest other version.
        percent: The share of requests that name neither a version nor a label, 0 to 100.
    """

    version: int
    percent: float


@dataclass(frozen=True)
class ModelConfig:
    """One served model.

    Attributes:
        name: The name clients use in URLs (`/v1/models/NAME`).
        base_path: The directory holding the integer version directories (`BASE/NAME`).
        version_policy: Which versions to serve.
        labels: Version labels, e.g. `{"stable": 1, "canary": 2}`.
        canary: The share of unlabeled requests sent to a second version, if any.
    """

    name: str
    base_path: Path
    version_policy: VersionPolicy = VersionPolicy()
    labels: Mapping[str, int] = field(default_factory=dict)
    canary: Canary | None = None

    def __post_init__(self) -> None:
        problem = name_problem(self.name)
        if problem:
            raise InvalidParameterError(f"The model name must be {problem}. Got {self.name!r}.")


@dataclass(frozen=True)
class RuntimeOptions:
    """ONNX Runtime settings for every session.

    Attributes:
        intra_op_threads: Threads inside one operator. 1, the default, serves the most
            requests per core: a request is too small to share out, and a worker serves
            many at once; 0 lets ONNX Runtime choose (one per core, spinning while idle).
        inter_op_threads: Threads across operators; 0 lets ONNX Runtime choose.
        device: `auto` (CUDA when ONNX Runtime has it, else CPU), `cpu` or `cuda`.
    """

    intra_op_threads: int = 1
    inter_op_threads: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"


def default_batch_threads() -> int:
    """One batch thread per CPU but one, and at least one: the event loop keeps a core.

    Every request's JSON is parsed and answered on the event loop, which is a worker's
    busiest thread; a batch thread on every core competes with it for the cores and for
    the GIL between its model runs, and splits the queue into smaller batches (on 2 CPUs,
    1 thread did better than 2 at concurrency 32 and as well at 8: see
    docs/benchmarks/serving11b.md).
    """
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(frozen=True)
class BatchingOptions:
    """Server-side batching, with TensorFlow Serving's parameters and meaning.

    Attributes:
        max_batch_size: The most rows one model run takes; a request with more runs alone.
        batch_timeout_micros: How long a batch that is not full waits for more requests;
            0 runs it as soon as a batch thread is free.
        num_batch_threads: Threads running batches, shared by every model version; by
            default one fewer than the CPUs (`default_batch_threads`).
        max_enqueued_batches: Batches a version may have waiting; past that, requests
            are refused with 503 (load shedding).
    """

    max_batch_size: int = 256
    batch_timeout_micros: int = 0
    num_batch_threads: int = field(default_factory=default_batch_threads)
    max_enqueued_batches: int = 100


@dataclass(frozen=True)
class RequestLogOptions:
    """A sample of requests and their predictions written to Parquet files.

    Attributes:
        directory: Where files go: `DIRECTORY/MODEL/VERSION/*.parquet`.
        sample: The share of requests logged, 0 to 1.
        flush_s: Seconds between writes of what is buffered.
        max_buffered_rows: Rows held between writes; rows past that are dropped and counted.
    """

    directory: Path
    sample: float = 1.0
    flush_s: float = 10.0
    max_buffered_rows: int = 100_000


@dataclass(frozen=True)
class ServerOptions:
    """How the server runs.

    Attributes:
        host: The interface to listen on.
        port: The TCP port (TF Serving's REST default is 8501).
        poll_s: Seconds between scans of the base paths for new versions; 0 scans once.
        max_body_bytes: Larger request bodies get 413.
        runtime: ONNX Runtime settings.
        batching: Server-side batching; None runs each request on its own.
        request_log: Request logging; None logs nothing.
        workers: Processes serving the port, each with its own sessions.
        access_log: Whether to log one line per request (uvicorn's access log).
        inline_run_micros: Requests whose model run is estimated at up to this many
            microseconds run on the event loop, the others on a worker thread; 0 sends
            every request to a thread (see `shipyard.serving.inference`).
        model_config: The model config file the models came from, if any: the reloader
            reads it again when it changes (labels, canaries, version policies).
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    poll_s: float = 2.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    runtime: RuntimeOptions = RuntimeOptions()
    batching: BatchingOptions | None = None
    request_log: RequestLogOptions | None = None
    workers: int = 1
    access_log: bool = False
    inline_run_micros: int = 1000
    model_config: Path | None = None


@dataclass(frozen=True)
class ModelConfigFile:
    """What a model config file holds: the models, and batching when it has a section."""

    models: tuple[ModelConfig, ...]
    batching: BatchingOptions | None = None


def name_problem(name: str) -> str | None:
    """Return what a model name or label must be when `name` is not one, else None."""
    if (
        not name
        or any(sep in name for sep in ("/", "\\", ":", "\0"))
        or ".." in name
        or name.startswith(".")
        or name != name.strip()
    ):
        return _NAME_RULE
    return None


def read_model_config(path: Path) -> ModelConfigFile:
    """Read a model config file: YAML or JSON (`models:`), else TF Serving text proto.

    Raises:
        ConfigError: The file is missing, unparsable, or lists invalid models; every
            problem is reported at once.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read the model config {path}: {exc.strerror}.") from exc
    source = str(path)
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        data = _load_yaml_or_json(text, path)
    else:
        from shipyard.serving.text_proto import parse_text_proto

        data = parse_text_proto(text, source=source)
    return parse_model_config(data, source=source, relative_to=path.parent.resolve())


def parse_model_config(data: Any, *, source: str, relative_to: Path) -> ModelConfigFile:
    """Build model configs from a parsed file: `{"models": [...]}` or TF's `model_config_list`.

    Raises:
        ConfigError: Every problem found, at once.
    """
    problems: list[str] = []
    batching = None
    if isinstance(data, dict) and "model_config_list" in data:
        entries = [_from_tf(item) for item in _as_list(data["model_config_list"], "config")]
    elif (
        isinstance(data, dict)
        and "models" in data
        and set(data) <= {"models", "batching"}
        and isinstance(data["models"], list)
    ):
        entries = data["models"]
        if "batching" in data:
            batching = _batching(data["batching"], problems)
    else:
        raise ConfigError(
            f"{source}: expected a mapping with the key 'models' (a list of models) and "
            f"optionally 'batching', or TensorFlow Serving's 'model_config_list'."
        )
    models: list[ModelConfig] = []
    for index, entry in enumerate(entries):
        model = _model(entry, f"model {index + 1}", relative_to, problems)
        if model is not None:
            models.append(model)
    names = [m.name for m in models]
    problems += [f"the name {n!r} is used twice" for n in sorted(set(names)) if names.count(n) > 1]
    if not entries:
        problems.append("no model is listed")
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{len(problems)} problem(s) in the model config {source}:\n{listing}")
    return ModelConfigFile(tuple(models), batching)


def model_config_data(config: ModelConfigFile, *, relative_to: Path) -> dict[str, Any]:
    """Return a model config as the mapping `parse_model_config` reads back.

    A base path under `relative_to` (the file's directory) is written relative to it, so
    the file and its models can move together.
    """

    def policy(value: VersionPolicy) -> Any:
        if value.kind == "specific":
            return {"specific": sorted(value.versions)}
        return value.kind if value.num_versions == 1 else {"latest": value.num_versions}

    def base(path: Path) -> str:
        try:
            return path.relative_to(relative_to).as_posix()
        except ValueError:
            return str(path)

    models: list[dict[str, Any]] = []
    for model in config.models:
        entry: dict[str, Any] = {"name": model.name, "base_path": base(model.base_path)}
        if model.version_policy != VersionPolicy():
            entry["version_policy"] = policy(model.version_policy)
        if model.labels:
            entry["labels"] = dict(model.labels)
        if model.canary is not None:
            percent = model.canary.percent
            entry["canary"] = {
                "version": model.canary.version,
                "percent": int(percent) if percent.is_integer() else percent,
            }
        models.append(entry)
    data: dict[str, Any] = {"models": models}
    if config.batching is not None:
        data["batching"] = dataclasses.asdict(config.batching)
    return data


def write_model_config(path: Path, config: ModelConfigFile) -> None:
    """Write a YAML or JSON model config file atomically (a temporary file, then a rename).

    A server reading the file meanwhile sees the old file or the new one, never a part.

    Raises:
        ConfigError: `path` is not a `.yaml`, `.yml` or `.json` file (TF Serving's text
            format is read, never written), or cannot be written.
    """
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(
            f"Cannot write the model config {path}: Shipyard writes YAML or JSON model "
            "configs (.yaml, .yml, .json), not TF Serving's text format. Convert it first."
        )
    data = model_config_data(config, relative_to=path.parent.resolve())
    if suffix == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise ConfigError(f"Cannot write the model config {path}: {exc.strerror}.") from exc


def batching_problems(options: BatchingOptions) -> list[str]:
    """Return what is wrong with batching parameters, for the flags and the config file."""
    minimum = {"batch_timeout_micros": 0}
    return [
        f"'{key}' must be an integer >= {minimum.get(key, 1)}, got {value!r}"
        for key, value in dataclasses.asdict(options).items()
        if not _is_int(value) or value < minimum.get(key, 1)
    ]


def _load_yaml_or_json(text: str, path: Path) -> Any:
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except ValueError as exc:  # json.JSONDecodeError
        raise ConfigError(f"{path} is not valid JSON: {exc}.") from exc
    except Exception as exc:  # yaml.YAMLError, imported lazily
        raise ConfigError(f"{path} is not valid YAML: {exc}.") from exc


def _model(entry: Any, where: str, relative_to: Path, problems: list[str]) -> ModelConfig | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: expected a mapping, got {entry!r}")
        return None
    name, base = entry.get("name"), entry.get("base_path")
    where = f"{where} ({name})" if isinstance(name, str) else where
    count = len(problems)
    unknown = set(entry) - {"name", "base_path", "version_policy", "labels", "canary"}
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    if not isinstance(name, str) or name_problem(name):
        problems.append(f"{where}: 'name' must be {_NAME_RULE}, got {name!r}")
    if not isinstance(base, str) or not base:
        problems.append(f"{where}: 'base_path' must be a directory, got {base!r}")
    policy = _policy(entry.get("version_policy", "latest"), where, problems)
    labels = _labels(entry.get("labels") or {}, where, problems)
    canary = _canary(entry.get("canary"), policy, where, problems)
    if len(problems) > count or policy is None or not isinstance(name, str):
        return None
    return ModelConfig(
        name=name,
        base_path=(relative_to / Path(str(base)).expanduser()).resolve(),
        version_policy=policy,
        labels=labels,
        canary=canary,
    )


def _policy(value: Any, where: str, problems: list[str]) -> VersionPolicy | None:
    if value in ("latest", "all"):
        return VersionPolicy(kind=value)
    if isinstance(value, dict) and len(value) == 1:
        ((kind, arg),) = value.items()
        if kind == "latest" and _is_int(arg) and arg >= 1:
            return VersionPolicy(kind="latest", num_versions=arg)
        if kind == "all" and arg in (None, {}, True):
            return VersionPolicy(kind="all")
        arg = [arg] if _is_int(arg) else arg
        if kind == "specific" and isinstance(arg, list) and arg and all(map(_is_int, arg)):
            return VersionPolicy(kind="specific", versions=frozenset(arg))
    problems.append(
        f"{where}: 'version_policy' must be latest, all, {{latest: N}} or "
        f"{{specific: [V, ...]}}, got {value!r}"
    )
    return None


def _labels(value: Any, where: str, problems: list[str]) -> dict[str, int]:
    if not isinstance(value, dict):
        problems.append(f"{where}: 'labels' must map label names to versions, got {value!r}")
        return {}
    bad = {k: v for k, v in value.items() if not isinstance(k, str) or name_problem(k)}
    bad |= {k: v for k, v in value.items() if not _is_int(v) or v < 0}
    for label, version in bad.items():
        problems.append(
            f"{where}: the label {label!r} must be a name mapped to a version number, "
            f"got {version!r}"
        )
    return {k: v for k, v in value.items() if k not in bad}


def _canary(
    value: Any, policy: VersionPolicy | None, where: str, problems: list[str]
) -> Canary | None:
    if value is None:
        return None
    version = value.get("version") if isinstance(value, dict) else None
    percent = value.get("percent") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or set(value) != {"version", "percent"}
        or not isinstance(version, int)
        or isinstance(version, bool)
        or version < 0
        or not isinstance(percent, int | float)
        or isinstance(percent, bool)
        or not 0 <= percent <= 100
    ):
        problems.append(
            f"{where}: 'canary' must be {{version: V, percent: P}} with P from 0 to 100, "
            f"got {value!r}"
        )
        return None
    if policy is not None and (
        (policy.kind == "latest" and policy.num_versions < 2)
        or (policy.kind == "specific" and version not in policy.versions)
    ):
        problems.append(
            f"{where}: the canary version {version} needs a version policy that serves it "
            f"beside another version ({{latest: 2}}, all, or {{specific: [...]}} listing it), "
            f"got {policy.describe()}"
        )
    return Canary(version=version, percent=float(percent))


def _batching(value: Any, problems: list[str]) -> BatchingOptions | None:
    keys = {f.name for f in dataclasses.fields(BatchingOptions)}
    if not isinstance(value, dict) or not set(value) <= keys:
        problems.append(f"'batching' must be a mapping of {', '.join(sorted(keys))}, got {value!r}")
        return None
    options = BatchingOptions(**value)
    found = batching_problems(options)
    problems += [f"batching: {problem}" for problem in found]
    return None if found else options


def _from_tf(config: Any) -> Any:
    """Translate one TF Serving `config { ... }` into this module's mapping."""
    if not isinstance(config, dict):
        return config
    entry = {k: v for k, v in config.items() if k not in ("model_platform", "version_labels")}
    policy = entry.pop("model_version_policy", None)
    if isinstance(policy, dict) and len(policy) == 1:
        ((kind, arg),) = policy.items()
        arg = arg if isinstance(arg, dict) else {}
        if kind == "latest":
            entry["version_policy"] = {"latest": arg.get("num_versions", 1)}
        elif kind == "specific":
            entry["version_policy"] = {"specific": _as_list(arg, "versions")}
        else:
            entry["version_policy"] = kind
    elif policy is not None:
        entry["version_policy"] = policy
    labels = _as_list(config, "version_labels")
    if labels:
        entry["labels"] = {
            item.get("key"): item.get("value") for item in labels if isinstance(item, dict)
        }
    return entry


def _as_list(container: Any, key: str) -> list[Any]:
    value = container.get(key, []) if isinstance(container, dict) else []
    return value if isinstance(value, list) else [value]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def dump_settings(models: Collection[ModelConfig], options: ServerOptions) -> str:
    """Write the models and options as JSON, for worker processes to read (`load_settings`)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, frozenset):
            return sorted(value)
        raise TypeError(type(value).__name__)

    data = {
        "models": [dataclasses.asdict(model) for model in models],
        "options": dataclasses.asdict(options),
    }
    return json.dumps(data, default=plain)


def load_settings(text: str) -> tuple[tuple[ModelConfig, ...], ServerOptions]:
    """Read what `dump_settings` wrote."""
    data = json.loads(text)
    models = tuple(
        ModelConfig(
            name=item["name"],
            base_path=Path(item["base_path"]),
            version_policy=VersionPolicy(
                kind=item["version_policy"]["kind"],
                num_versions=item["version_policy"]["num_versions"],
                versions=frozenset(item["version_policy"]["versions"]),
            ),
            labels=item["labels"],
            canary=None if item["canary"] is None else Canary(**item["canary"]),
        )
        for item in data["models"]
    )
    raw = data["options"]
    log = raw["request_log"]
    options = ServerOptions(
        **raw
        | {
            "runtime": RuntimeOptions(**raw["runtime"]),
            "batching": None if raw["batching"] is None else BatchingOptions(**raw["batching"]),
            "request_log": None
            if log is None
            else RequestLogOptions(**log | {"directory": Path(log["directory"])}),
            "model_config": None if raw["model_config"] is None else Path(raw["model_config"]),
        }
    )
    return models, options
