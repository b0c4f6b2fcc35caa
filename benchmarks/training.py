"""Training throughput and serving latency of the census DNN (100, 70, 50, 25); example metrics.

(a) Examples per second of the estimator's training loop (`shipyard.components.train.loop.fit`
    with a `LoopConfig`) against a hand-written PyTorch loop: the same network from
    `build_estimator`, the same tensors (the census data through the census pipeline's
    transform), batch size, Adam, shuffling and number of epochs; no eval split, no early
    stopping. `fit` must reach at least 90 % of the hand-written loop. Also `fit` with the
    eval split, as the `train` component calls it (an eval pass after every epoch).
(b) Latency of the exported model for batches of 1 and 64 raw rows: ONNX Runtime on
    `model.onnx` (raw columns in: numpy inputs prepared once; then `Model.predict` from an
    Arrow table) against PyTorch eager (the transform's `apply` on the Arrow table, then the
    module; and the module alone on transformed tensors). Median and p99 of `--calls` calls.
(c) The eval metrics each example reaches (penguins, taxi, census): each example pipeline
    run as shipped, with PyTorch's default threads, from a copy in a temporary directory.

(a) and (b) are measured for every thread count in `--threads` (PyTorch's intra-op threads,
and ONNX Runtime's): one thread, and PyTorch's default (one per core).

    python benchmarks/training.py [--repeats 3] [--epochs 5] [--calls 1000] [--threads 1,2]
                                  [--part all|training|latency|examples]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional

import shipyard
from shipyard.artifacts import Examples, Model, TransformGraph
from shipyard.components.train.data import Problem, Split, describe_problem, to_tensors
from shipyard.components.train.estimators import FeatureSpec, Head, build_estimator
from shipyard.components.train.loop import LoopConfig, fit, seed_everything
from shipyard.components.transform.apply import apply
from shipyard.components.transform.fitted import FittedTransform
from shipyard.dsl import load_pipeline

if TYPE_CHECKING:
    from collections.abc import Callable

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CENSUS = EXAMPLES / "census" / "pipeline.py"
HIDDEN_UNITS = [100, 70, 50, 25]
LEARNING_RATE = 1e-3
BATCHES = (1, 64)


@dataclass(frozen=True)
class Prepared:
    """The census data as tensors, the trained model, and the raw eval rows."""

    problem: Problem
    train: Split
    evaluation: Split
    fitted: FittedTransform
    model: Model
    raw_rows: pa.Table


def prepare(workdir: Path) -> Prepared:
    """Run the census pipeline up to `train` (3 epochs) in `workdir`; read what it made."""
    os.chdir(workdir)
    pipeline = load_pipeline(CENSUS, params={"epochs": 3})
    result = shipyard.run(pipeline["train"], store=f"sqlite:///{workdir}/store.db", progress=False)
    assert result.ok, [(n.name, n.error) for n in result.failed]
    graph = result["transform"].outputs["transform_graph"]
    transformed = result["transform"].outputs["transformed"]
    examples = result["ingest"].outputs["examples"]
    model = result["train"].outputs["model"]
    assert isinstance(graph, TransformGraph) and isinstance(model, Model)
    assert isinstance(transformed, Examples) and isinstance(examples, Examples)
    fitted = FittedTransform.from_spec(graph.load())
    train_table = transformed.read("train")
    problem = describe_problem(fitted, train_table, label=None, task="auto")
    raw = examples.read("eval")
    return Prepared(
        problem=problem,
        train=to_tensors(problem, train_table, split="train"),
        evaluation=to_tensors(problem, transformed.read("eval"), split="eval"),
        fitted=fitted,
        model=model,
        raw_rows=raw.drop_columns([model.signature()["label"]]),
    )


def network(problem: Problem, seed: int) -> nn.Module:
    seed_everything(seed)
    return build_estimator("dnn", problem.features, problem.outputs, hidden_units=HIDDEN_UNITS)


def time_fit(data: Prepared, *, epochs: int, batch_size: int, seed: int, with_eval: bool) -> float:
    """Seconds `fit` takes for `epochs` over the train split."""
    net = network(data.problem, seed)
    config = LoopConfig(
        learning_rate=LEARNING_RATE,
        batch_size=batch_size,
        epochs=epochs,
        early_stopping_patience=None,
        seed=seed,
        device="cpu",
    )
    evaluation = data.evaluation if with_eval else None
    started = time.perf_counter()
    fit(net, data.problem, data.train, evaluation, config)
    return time.perf_counter() - started


def time_hand_written(data: Prepared, *, epochs: int, batch_size: int, seed: int) -> float:
    """Seconds the plainest PyTorch loop takes for the same work."""
    net = network(data.problem, seed)
    features, target = data.train.features, data.train.label.long()
    rows = data.train.rows
    started = time.perf_counter()
    net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(rows, generator=generator)
        for start in range(0, rows, batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = functional.cross_entropy(net(*(f[index] for f in features)), target[index])
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    return time.perf_counter() - started


def bench_training(data: Prepared, args: argparse.Namespace) -> dict[str, float]:
    """Median examples/s of each loop; the runs alternate so drift hits both alike."""
    work = {"epochs": args.epochs, "batch_size": args.batch_size}
    time_fit(data, epochs=1, batch_size=args.batch_size, seed=0, with_eval=True)  # warm-up
    time_hand_written(data, epochs=1, batch_size=args.batch_size, seed=0)
    times: dict[str, list[float]] = {"fit": [], "hand-written": [], "fit + eval": []}
    for repeat in range(args.repeats):
        runs: list[tuple[str, Callable[[], float]]] = [
            ("fit", functools.partial(time_fit, data, **work, seed=repeat, with_eval=False)),
            ("hand-written", functools.partial(time_hand_written, data, **work, seed=repeat)),
            ("fit + eval", functools.partial(time_fit, data, **work, seed=repeat, with_eval=True)),
        ]
        for name, timed in runs if repeat % 2 == 0 else runs[::-1]:
            times[name].append(timed())
    examples = data.train.rows * args.epochs
    return {name: examples / float(np.median(values)) for name, values in times.items()}


def eager_head(data: Prepared) -> nn.Module:
    """The training path, rebuilt from the exported weights (as the parity test does)."""
    card = data.model.card()
    features = [FeatureSpec(**f) for f in card["features"]]
    net = build_estimator("dnn", features, len(card["classes"]), hidden_units=HIDDEN_UNITS)
    net.load_state_dict(load_file(data.model.path / Model.WEIGHTS_FILENAME))
    return Head(net, classification=True).eval()


def ort_inputs(model: Model, rows: pa.Table) -> dict[str, np.ndarray]:
    """Raw columns as `model.onnx` takes them: float32 [N, 1] (NaN missing), str [N, 1]."""
    feed = {}
    for item in model.signature()["inputs"]:
        column = rows.column(item["name"])
        if item["dtype"] == "float":
            values = np.asarray(column.cast(pa.float64()).to_numpy(), dtype=np.float32)
        else:
            values = np.asarray(column.fill_null("").to_numpy(zero_copy_only=False), object)
        feed[item["name"]] = values.reshape(-1, 1)
    return feed


def latencies_ms(call: Callable[[], Any], calls: int) -> tuple[float, float]:
    """Median and 99th percentile of `calls` timed calls, after 50 untimed ones."""
    for _ in range(50):
        call()
    timings = np.empty(calls)
    for i in range(calls):
        started = time.perf_counter()
        call()
        timings[i] = time.perf_counter() - started
    return float(np.median(timings)) * 1e3, float(np.percentile(timings, 99)) * 1e3


def bench_latency(data: Prepared, calls: int, threads: int) -> dict[str, tuple[float, float]]:
    import onnxruntime as ort  # type: ignore[import-untyped]

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(
        data.model.read_onnx(), options, providers=["CPUExecutionProvider"]
    )
    data.model.__dict__["_ort_session"] = session  # Model.predict with the same session
    head = eager_head(data)
    serving = data.fitted.serving_outputs()
    names = [f["name"] for f in data.model.card()["features"]]

    def tensors(rows: pa.Table) -> tuple[torch.Tensor, ...]:
        inputs = apply(data.fitted, rows, outputs=serving)
        return tuple(torch.tensor(inputs.column(n).to_numpy().reshape(-1, 1)) for n in names)

    def module(inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        with torch.inference_mode():
            out: tuple[torch.Tensor, ...] = head(*inputs)
        return out

    def eager(rows: pa.Table) -> tuple[torch.Tensor, ...]:
        return module(tensors(rows))

    results: dict[str, tuple[float, float]] = {}
    for batch in BATCHES:
        rows = data.raw_rows.slice(0, batch)
        feed = ort_inputs(data.model, rows)
        served = session.run(["probabilities"], feed)[0]
        np.testing.assert_allclose(served, eager(rows)[1].numpy(), atol=1e-5)
        paths: dict[str, Callable[[], Any]] = {
            "ONNX Runtime, numpy in": functools.partial(session.run, None, feed),
            "Model.predict, Arrow in": functools.partial(data.model.predict, rows),
            "PyTorch eager (apply + module)": functools.partial(eager, rows),
            "  of which the module alone": functools.partial(module, tensors(rows)),
        }
        for name, call in paths.items():
            results[f"{name}, batch {batch}"] = latencies_ms(call, calls)
    return results


def example_metrics(workdir: Path) -> dict[str, dict[str, float | None]]:
    """Run each example as shipped (from a copy: push writes next to the pipeline file)."""
    found = {}
    for name in ("penguins", "taxi", "census"):
        folder = workdir / name
        shutil.copytree(EXAMPLES / name, folder, ignore=shutil.ignore_patterns("models", ".*"))
        os.chdir(folder)
        started = time.perf_counter()
        result = shipyard.run(folder / "pipeline.py", progress=False)
        assert result.ok, [(n.name, n.error) for n in result.failed]
        evaluation = result["evaluate"].outputs["evaluation"].load()
        metrics = evaluation.metrics
        train_s = result["train"].duration_s or 0.0
        found[name] = {
            "rows": evaluation.overall["count"],
            "accuracy": metrics.get("accuracy"),
            "auc": metrics.get("auc"),
            "epochs": result["train"].outputs["model"].properties["metrics"]["epochs"],
            "blessed": result["evaluate"].outputs["blessing"].properties["blessed"],
            "train_s": train_s,
            "run_s": time.perf_counter() - started,
        }
    return found


def main() -> None:
    default_threads = torch.get_num_threads()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="training runs per loop")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per latency")
    parser.add_argument(
        "--threads", default=f"1,{default_threads}", help="comma-separated thread counts"
    )
    parser.add_argument("--part", choices=("all", "training", "latency", "examples"), default="all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.part in ("all", "examples"):
            print("example   eval rows  accuracy  AUC     epochs  blessed  train    run")
            for name, found in example_metrics(Path(tmp)).items():
                auc = "-" if found["auc"] is None else f"{found['auc']:.3f}"
                print(
                    f"{name:<9} {found['rows']:<10} {found['accuracy']:.3f}     {auc:<7} "
                    f"{found['epochs']:<7} "
                    f"{found['blessed']!s:<8} {found['train_s']:5.1f} s {found['run_s']:5.1f} s"
                )
            if args.part == "examples":
                return
        torch.set_num_threads(1)  # untimed, and fast on a busy machine
        data = prepare(Path(tmp))
        print(
            f"census: {data.train.rows} train rows, {len(data.problem.features)} features, "
            f"DNN {HIDDEN_UNITS}; batch {args.batch_size}, {args.epochs} epochs, "
            f"median of {args.repeats}; torch {torch.__version__}, {os.cpu_count()} CPUs"
        )
        for threads in dict.fromkeys(int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            print(f"\n== {threads} thread(s)")
            if args.part in ("all", "training"):
                speeds = bench_training(data, args)
                for name, speed in speeds.items():
                    print(f"  train  {name:<44} {speed:>10,.0f} examples/s")
                ratio = speeds["fit"] / speeds["hand-written"]
                print(f"  train  fit / hand-written{'':<28} {ratio:>10.1%}")
            if args.part in ("all", "latency"):
                for name, (median, p99) in bench_latency(data, args.calls, threads).items():
                    print(f"  serve  {name:<44} median {median:6.3f} ms  p99 {p99:6.3f} ms")
        torch.set_num_threads(default_threads)


if __name__ == "__main__":
    main()
