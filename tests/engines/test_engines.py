from __future__ import annotations

import pytest

from shipyard.engines import open_engine
from shipyard.engines.processes import ProcessEngine
from shipyard.engines.threads import ThreadEngine
from shipyard.testing import check_engine


def test_thread_engine_conforms() -> None:
    check_engine(ThreadEngine(max_workers=2))


def test_process_engine_conforms() -> None:
    check_engine(ProcessEngine(max_workers=2))


@pytest.mark.parametrize(("name", "cls"), [("threads", ThreadEngine), ("processes", ProcessEngine)])
def test_engines_resolve_by_name(name: str, cls: type) -> None:
    engine = open_engine(name, max_workers=3)
    assert isinstance(engine, cls) and engine.max_parallel == 3
    engine.close()
