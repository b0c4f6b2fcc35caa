"""The runs table's cells: a long parameter value is cut to fit, keeping what tells runs apart."""

from __future__ import annotations

from shipyard.ui.runs_page import MAX_VALUE_CHARS, shorten


def test_a_long_path_keeps_its_end_and_other_text_its_start() -> None:
    path = "/home/me/projects/taxi/data/span-12/taxi.csv"
    assert shorten(path) == "…" + path[-(MAX_VALUE_CHARS - 1) :]
    assert shorten(path).endswith("span-12/taxi.csv") and len(shorten(path)) == MAX_VALUE_CHARS
    words = "a rather long description of the experiment"
    assert shorten(words) == words[: MAX_VALUE_CHARS - 1] + "…"
    assert shorten("data/a.csv") == "data/a.csv"  # short enough: whole
