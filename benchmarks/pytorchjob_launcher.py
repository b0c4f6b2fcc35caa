"""The launcher task of a distributed training node: `shipyard execute-node --pytorchjob`.

The train node of `examples/penguins` with `workers=4` is compiled for Kubeflow; its
launcher command (the job's parameters filled in as KFP would) runs in a new interpreter
against `shipyard.testing.kubernetes.PyTorchJobServer` on 127.0.0.1, whose job succeeds on
its third read (`SHIPYARD_PYTORCHJOB_POLL_S=0.01`). What it costs is the launcher pod's own
start: the interpreter, the imports, loading the pipeline file to check `workers`, the
create and the reads. Wall and CPU (user + sys of the child, which a shared machine
inflates less) are medians over the repeats.

    python benchmarks/pytorchjob_launcher.py [--repeats 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shipyard.compile import KubeflowOptions, compile_kubeflow  # noqa: E402
from shipyard.testing.kubernetes import PyTorchJobServer  # noqa: E402

PIPELINE = """
from shipyard import Pipeline, Resources
from shipyard.pipelines import tabular_pipeline


def penguins(source: str = "data/penguins.csv", workers: int = 4) -> Pipeline:
    pipeline = tabular_pipeline(
        "penguins", source, schema="schema.yaml", estimator="dnn",
        train_options={"workers": workers, "epochs": 3},
    )
    pipeline["train"].with_options(resources=Resources(cpus=2, memory="4GiB"))
    return pipeline
"""
VALUES = {"shipyard_run_id": "run-1", "source": "data/penguins.csv", "workers": "4"}


def launcher_command(project: Path) -> list[str]:
    """The compiled launcher's command line, its KFP placeholders filled in."""
    options = KubeflowOptions(store="postgresql://db/s", artifact_root="s3://bucket/s")
    cwd = Path.cwd()
    os.chdir(project)
    try:
        spec, _ = compile_kubeflow("distributed.py", options=options)
    finally:
        os.chdir(cwd)
    args = spec["deploymentSpec"]["executors"]["exec-train"]["container"]["args"]
    filled = []
    for arg in args:
        text = arg
        for key, value in VALUES.items():
            text = text.replace(f"{{{{$.inputs.parameters['{key}']}}}}", value)
        filled.append(text)
    return [sys.executable, "-m", "shipyard", *filled]


def measure(repeats: int) -> dict[str, object]:
    """Run the launcher `repeats` times; its wall and CPU seconds, each run's and medians."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(shutil.copytree(ROOT / "examples" / "penguins", Path(tmp) / "p"))
        (project / "distributed.py").write_text(PIPELINE)
        command = launcher_command(project)
        base = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
        base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")]))
        wall, cpu = [], []
        for _ in range(repeats):
            with PyTorchJobServer(namespace="ml") as server:
                env = {
                    **base,
                    "SHIPYARD_KUBE_API": server.url,
                    "SHIPYARD_KUBE_NAMESPACE": "ml",
                    "SHIPYARD_PYTORCHJOB_POLL_S": "0.01",
                }
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run(
                    command, check=False, cwd=project, env=env, capture_output=True
                )
                wall.append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if done.returncode != 0 or len(server.received("POST")) != 1:
                    raise SystemExit(done.stderr.decode())
                cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {
        "repeats": repeats,
        "wall_s": statistics.median(wall),
        "cpu_s": statistics.median(cpu),
        "wall_runs_s": [round(each, 3) for each in wall],
        "cpu_runs_s": [round(each, 3) for each in cpu],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    found = measure(options.repeats)
    if options.json:
        print(json.dumps(found, indent=2))
        return
    print(f"launcher: wall {found['wall_s']:.3f} s, cpu {found['cpu_s']:.3f} s (median)")


if __name__ == "__main__":
    main()
