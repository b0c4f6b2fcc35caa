from __future__ import annotations

from shipyard.engines import open_engine
from shipyard.engines.local import LocalEngine
from shipyard.testing import check_engine


def test_local_engine_conforms() -> None:
    check_engine(LocalEngine(max_workers=2))


def test_engines_resolve_by_name() -> None:
    engine = open_engine("local", max_workers=3)
    assert isinstance(engine, LocalEngine) and engine.max_parallel == 3
    engine.close()
