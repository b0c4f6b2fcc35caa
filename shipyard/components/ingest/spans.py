"""Spans and versions: `data/span-{SPAN}/v{VERSION}/*.csv` picks the newest data, as TFX does.

A pattern names a family of inputs. `{SPAN}` stands for a number that grows as new data
arrives (a day, a week, an export), `{VERSION}` for a number that grows when one span is
re-exported. By default ingest reads the latest span at its latest version, so a new span
on disk changes what the next run reads, and the cache key (see `sources.listing`).
`last_n_spans=N` reads a rolling window: the newest N spans, each at its latest version.
When fewer than N spans exist, it reads those there are and says so (`SpanSelection.note`,
logged by ingest): a rolling window starts small, and refusing its first runs would stop
a continuous pipeline until N spans have arrived.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from shipyard.errors import DataError

SPAN = "{SPAN}"
VERSION = "{VERSION}"
_TOKEN = re.compile(r"\{SPAN\}|\{VERSION\}|\*\*|\*|\?")


@dataclass(frozen=True)
class SpanSelection:
    """The files of the selected spans, each at its selected version.

    Attributes:
        files: The files to read, sorted by span and path.
        spans: The spans read.
        versions: The version read of each span (empty without `{VERSION}`).
        note: Why fewer spans were read than asked for, if so.
    """

    files: tuple[Path, ...]
    spans: tuple[int, ...]
    versions: tuple[int, ...]
    note: str | None = None


def has_span(pattern: str) -> bool:
    """Return whether `pattern` has a `{SPAN}` placeholder."""
    return SPAN in pattern


def select_spans(
    pattern: str,
    *,
    span: int | None = None,
    span_range: tuple[int, int] | None = None,
    version: int | None = None,
    last_n_spans: int | None = None,
) -> SpanSelection:
    """Find the spans and versions on disk and pick the files to read.

    Args:
        pattern: A path with `{SPAN}` and optionally `{VERSION}`, and glob wildcards.
        span: Read this span (default: the latest).
        span_range: Read every span from `first` to `last` inclusive that exists.
        version: Read this version of each span (default: each span's latest).
        last_n_spans: Read the newest `last_n_spans` spans (those there are, when fewer).

    Returns:
        The files, sorted by span and path, and the spans and versions read.

    Raises:
        DataError: No file matches, or the asked-for span or version does not exist.
    """
    found = _scan(pattern)
    if not found:
        raise DataError(
            f"no file matches the span pattern. {SPAN} and {VERSION} stand for numbers "
            f"(e.g. span-3/v2/data.csv); check the path, or that the data has arrived.",
            path=pattern,
        )
    available = sorted(found)
    if span_range is not None:
        first, last = span_range
        chosen = [s for s in available if first <= s <= last]
        if not chosen:
            raise DataError(
                f"no span in the range {first}..{last}; the spans on disk are "
                f"{_numbers(available)}.",
                path=pattern,
            )
    elif span is not None:
        if span not in found:
            raise DataError(
                f"span {span} does not exist; the spans on disk are {_numbers(available)}.",
                path=pattern,
            )
        chosen = [span]
    elif last_n_spans is not None:
        chosen = available[-last_n_spans:]
    else:
        chosen = [available[-1]]
    note = None
    if last_n_spans is not None and len(chosen) < last_n_spans:
        note = (
            f"last_n_spans={last_n_spans} asked for {last_n_spans} spans; only "
            f"{len(chosen)} exist ({_numbers(chosen)}), so ingest read those."
        )
    files: list[Path] = []
    versions: list[int] = []
    for number in chosen:
        by_version = found[number]
        if version is None:
            picked = max(by_version)
        elif version in by_version:
            picked = version
        else:
            raise DataError(
                f"span {number} has no version {version}; its versions are "
                f"{_numbers(sorted(v for v in by_version if v >= 0))}.",
                path=pattern,
            )
        if picked >= 0:
            versions.append(picked)
        files.extend(sorted(by_version[picked]))
    return SpanSelection(tuple(files), tuple(chosen), tuple(versions), note)


def _scan(pattern: str) -> dict[int, dict[int, list[Path]]]:
    """Map span -> version (-1 when the pattern has none) -> files."""
    matcher = re.compile(_regex(pattern))
    wildcard = pattern.replace(SPAN, "*").replace(VERSION, "*")
    found: dict[int, dict[int, list[Path]]] = {}
    for name in glob.glob(wildcard, recursive=True):
        path = Path(name)
        match = matcher.fullmatch(path.as_posix())
        if match is None or not path.is_file() or path.name.startswith((".", "_")):
            continue
        number = int(match.group("span"))
        version = int(match.group("version")) if VERSION in pattern else -1
        found.setdefault(number, {}).setdefault(version, []).append(path)
    return found


def _regex(pattern: str) -> str:
    parts: list[str] = []
    position = 0
    seen: set[str] = set()
    for match in _TOKEN.finditer(Path(pattern).as_posix()):
        parts.append(re.escape(Path(pattern).as_posix()[position : match.start()]))
        piece = match.group()
        if piece in (SPAN, VERSION):
            group = "span" if piece == SPAN else "version"
            parts.append(f"(?P={group})" if group in seen else rf"(?P<{group}>\d+)")
            seen.add(group)
        elif piece == "**":
            parts.append(".*")
        elif piece == "*":
            parts.append("[^/]*")
        else:
            parts.append("[^/]")
        position = match.end()
    parts.append(re.escape(Path(pattern).as_posix()[position:]))
    return "".join(parts)


def _numbers(values: list[int]) -> str:
    if not values:
        return "none"
    shown = ", ".join(str(v) for v in values[-10:])
    return shown if len(values) <= 10 else f"... {shown}"
