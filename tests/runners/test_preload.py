"""The background load of libtorch_cpu: what it loads, when a run starts it, and that
`import torch` then uses the loaded library."""

from __future__ import annotations

import _ctypes
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shipyard import Pipeline
from shipyard.pipelines import tabular_pipeline
from shipyard.runners.preload import DISABLE_ENV, NativePreload, load_library
from shipyard.runners.results import NodeRun, NodeState
from tests.runners.components import double, source

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "penguins"
LOADED = Path(_ctypes.__file__)  # a library this process has loaded already: cheap to load


def _training_pipeline() -> Pipeline:
    return tabular_pipeline(
        "penguins", EXAMPLE / "data" / "penguins.csv", schema=EXAMPLE / "schema.yaml"
    )


def _events(hook: NativePreload, pipeline: Pipeline, states: list[NodeState]) -> None:
    hook.on_run_start(run_id="r1", pipeline=pipeline)
    for state in states:
        hook.on_node_state(node=NodeRun(name="ingest", component="ingest", state=state))


def test_a_training_run_loads_the_library_when_its_first_node_executes() -> None:
    hook = NativePreload(library=LOADED)
    _events(hook, _training_pipeline(), ["cached", "cached"])
    assert hook.thread is None  # cached nodes load nothing
    hook.on_node_state(node=NodeRun(name="train", component="train", state="running"))
    assert hook.thread is not None
    first = hook.thread
    hook.thread.join(timeout=30)
    assert not hook.thread.is_alive()
    hook.on_node_state(node=NodeRun(name="evaluate", component="evaluate", state="running"))
    assert hook.thread is first  # loaded once a run


def test_a_run_without_training_loads_nothing() -> None:
    hook = NativePreload(library=LOADED)
    _events(hook, Pipeline("plain", [double(source().outputs.out)]), ["running", "complete"])
    assert hook.thread is None


def test_the_variable_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DISABLE_ENV, "0")
    hook = NativePreload(library=LOADED)
    _events(hook, _training_pipeline(), ["running"])
    assert hook.thread is None


def test_a_library_that_cannot_load_is_reported_false(tmp_path: Path) -> None:
    broken = tmp_path / "libbroken.so"
    broken.write_bytes(b"not an ELF file")
    assert load_library(broken) is False
    assert load_library(tmp_path / "missing.so") is False


def test_import_torch_uses_the_library_loaded_before() -> None:
    """In a fresh interpreter: the path is found without importing torch, the load maps
    the library once, and `import torch` then works on that same mapping."""
    pytest.importorskip("torch")
    script = textwrap.dedent(
        """
        import sys
        from shipyard.runners.preload import load_library, torch_library

        def mapped():
            with open("/proc/self/maps") as maps:
                return {line.split()[-1] for line in maps if "libtorch_cpu" in line}

        library = torch_library()
        assert library is not None and "torch" not in sys.modules
        assert not mapped()
        assert load_library(library)
        assert "torch" not in sys.modules
        assert mapped() == {str(library.resolve())}, mapped()
        import torch
        assert float(torch.ones(3).sum()) == 3.0
        assert mapped() == {str(library.resolve())}, mapped()
        assert torch_library() is None  # torch is imported: nothing left to load
        """
    )
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc/self/maps")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_load_leaves_the_gil_to_other_threads() -> None:
    """While libtorch_cpu loads in a thread (0.2-0.4 s of CPU), the main thread runs Python:
    loaded with the GIL held, as Python's import or `ctypes.CDLL(path)` do, it gets
    about 0.01 s of CPU meanwhile."""
    pytest.importorskip("torch")
    script = textwrap.dedent(
        """
        import time
        from shipyard.runners.preload import start_load, torch_library

        thread = start_load(torch_library())
        started = time.thread_time()
        while thread.is_alive():
            pass
        print(time.thread_time() - started)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) > 0.08
