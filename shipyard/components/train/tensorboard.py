"""Write and read TensorBoard scalar event files with the standard library only.

An event file is a sequence of TFRecords (little-endian uint64 length, masked CRC-32C of the
length, the data, masked CRC-32C of the data); each record is a serialised `tensorboard.Event`
protobuf, encoded here by hand. The first event carries `file_version: "brain.Event:2"`; each
scalar is an `Event{wall_time, step, summary{value{tag, simple_value}}}`. Field numbers follow
tensorboard's `event.proto` and `summary.proto`.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import socket
import struct
import time
from pathlib import Path
from typing import TYPE_CHECKING, Self

from shipyard.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from types import TracebackType

__all__ = ["EventWriter", "read_scalars"]

FILE_VERSION = "brain.Event:2"

# Protobuf wire types and the field numbers used (tensorboard/compat/proto/*.proto).
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
_EVENT_WALL_TIME, _EVENT_STEP, _EVENT_FILE_VERSION, _EVENT_SUMMARY = 1, 2, 3, 5
_SUMMARY_VALUE = 1
_VALUE_TAG, _VALUE_SIMPLE_VALUE = 1, 2

_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF
_CRC_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")

_file_counter = itertools.count()  # like TensorFlow's per-process uid in the file name


@functools.cache
def _crc32c_table() -> tuple[int, ...]:
    """The byte table of the reflected CRC-32C (Castagnoli, polynomial 0x82F63B78)."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


def crc32c(data: bytes) -> int:
    """Return the CRC-32C (Castagnoli) checksum of `data`."""
    table = _crc32c_table()
    crc = _U32
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _U32


def masked_crc32c(data: bytes) -> int:
    """Return the CRC-32C of `data` masked the way TFRecord stores it."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _CRC_MASK_DELTA) & _U32


def _frame(data: bytes) -> bytes:
    """Frame `data` as one TFRecord."""
    length = struct.pack("<Q", len(data))
    return b"".join(
        (length, _FOOTER.pack(masked_crc32c(length)), data, _FOOTER.pack(masked_crc32c(data)))
    )


def _varint(value: int) -> bytes:
    """Encode `value` as a protobuf varint (negative ints as 64-bit two's complement)."""
    value &= _U64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _key(field, _LENGTH) + _varint(len(payload)) + payload


def _float32(value: float) -> bytes:
    """Pack `value` as a float32; finite values beyond its range become infinities."""
    try:
        return struct.pack("<f", value)
    except OverflowError:
        return struct.pack("<f", math.copysign(math.inf, value))


def _event(wall_time: float, step: int, field: int, payload: bytes) -> bytes:
    """Encode an Event with `wall_time`, `step` and one length-delimited `field`."""
    parts = [_key(_EVENT_WALL_TIME, _FIXED64), struct.pack("<d", wall_time)]
    if step:
        parts += [_key(_EVENT_STEP, _VARINT), _varint(step)]
    parts.append(_length_delimited(field, payload))
    return b"".join(parts)


def _scalar_summary(tag: str, value: float) -> bytes:
    """Encode Summary{value{tag, simple_value}}."""
    summary_value = (
        _length_delimited(_VALUE_TAG, tag.encode())
        + _key(_VALUE_SIMPLE_VALUE, _FIXED32)
        + _float32(value)
    )
    return _length_delimited(_SUMMARY_VALUE, summary_value)


class EventWriter:
    """Append scalars to a new TensorBoard event file in `logdir`.

    Each writer creates its own file, named like TensorFlow's
    (`events.out.tfevents.{time}.{host}.{pid}.{counter}{suffix}`), so several writers may share
    a directory. Records are buffered: call `flush` (cheap, no fsync) after each epoch to make
    them visible to a running `tensorboard --logdir`.

    Args:
        logdir: The directory (a TensorBoard run); created if missing.
        filename_suffix: Appended to the file name.

    Example:
        >>> with EventWriter(tmp_path / "logs") as writer:  # doctest: +SKIP
        ...     writer.add_scalars({"train_loss": 0.41, "eval_loss": 0.47}, step=1)
    """

    def __init__(self, logdir: Path | str, *, filename_suffix: str = "") -> None:
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        wall_time = time.time()
        prefix = f"events.out.tfevents.{int(wall_time):010d}.{socket.gethostname()}.{os.getpid()}"
        while True:
            self.path = self.logdir / f"{prefix}.{next(_file_counter)}{filename_suffix}"
            try:
                self._file = self.path.open("xb")
                break
            except FileExistsError:  # another process with our pid wrote here before
                continue
        self._write(_event(wall_time, 0, _EVENT_FILE_VERSION, FILE_VERSION.encode()))

    def add_scalar(
        self, tag: str, value: float, step: int, *, wall_time: float | None = None
    ) -> None:
        """Append one scalar `value` of `tag` at `step` (stored as a float32).

        Args:
            tag: The curve's name, e.g. `eval_loss`.
            value: The value.
            step: The x coordinate, e.g. the epoch.
            wall_time: Seconds since the epoch; now if omitted.
        """
        wall_time = time.time() if wall_time is None else wall_time
        self._write(_event(wall_time, step, _EVENT_SUMMARY, _scalar_summary(tag, value)))

    def add_scalars(
        self, values: Mapping[str, float], step: int, *, wall_time: float | None = None
    ) -> None:
        """Append each `tag: value` of `values` at `step`, all with the same wall time."""
        wall_time = time.time() if wall_time is None else wall_time
        for tag, value in values.items():
            self.add_scalar(tag, value, step, wall_time=wall_time)

    def flush(self) -> None:
        """Hand the buffered records to the operating system."""
        self._file.flush()

    def close(self) -> None:
        """Flush and close the file; closing twice is harmless."""
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, event: bytes) -> None:
        self._file.write(_frame(event))


def read_scalars(logdir: Path | str) -> dict[str, list[tuple[int, float]]]:
    """Read the scalars of every event file directly in `logdir` (one TensorBoard run).

    Files are read in name order (which is creation order), records in file order. A record
    cut short at the end of a file, as a writer that is still running may leave it, is
    skipped. Summary values other than `simple_value` are ignored.

    Args:
        logdir: The directory the `EventWriter`s wrote to.

    Returns:
        For each tag, its `(step, value)` points.

    Raises:
        DataError: A record's checksum does not match or it is not a valid Event.

    Example:
        >>> read_scalars(tmp_path / "logs")["eval_loss"]  # doctest: +SKIP
        [(1, 0.4699999988079071)]
    """
    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(Path(logdir).glob("*tfevents*")):
        if not path.is_file():
            continue
        for offset, record in _records(path):
            try:
                step, points = _parse_event(record)
            except (ValueError, IndexError, struct.error, UnicodeDecodeError) as error:
                raise _corrupt(path, offset, f"it is not a valid Event ({error})") from error
            for tag, value in points:
                scalars.setdefault(tag, []).append((step, value))
    return scalars


def _corrupt(path: Path, offset: int, why: str) -> DataError:
    return DataError(
        f"The TensorBoard event record at byte {offset} is corrupt: {why}.",
        path=str(path),
        hint="Delete or move the file; the other event files of the run are still readable.",
    )


def _records(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield the byte offset and data of each TFRecord in `path`, checking both CRCs."""
    content = path.read_bytes()
    offset = 0
    while offset + _HEADER.size <= len(content):
        length, length_crc = _HEADER.unpack_from(content, offset)
        if masked_crc32c(content[offset : offset + 8]) != length_crc:
            raise _corrupt(path, offset, "the checksum of its length does not match")
        start = offset + _HEADER.size
        end = start + length
        if end + _FOOTER.size > len(content):
            return  # cut short: the writer may still be running
        (data_crc,) = _FOOTER.unpack_from(content, end)
        if masked_crc32c(content[start:end]) != data_crc:
            raise _corrupt(path, offset, "the checksum of its data does not match")
        yield offset, content[start:end]
        offset = end + _FOOTER.size


def _fields(message: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield `(field, wire_type, value)` for each field of a protobuf `message`.

    Varints and fixed-width values come back as unsigned ints, length-delimited ones as bytes.
    """
    position = 0
    while position < len(message):
        key, position = _read_varint(message, position)
        field, wire_type = key >> 3, key & 7
        value: int | bytes
        if wire_type == _VARINT:
            value, position = _read_varint(message, position)
        elif wire_type == _FIXED64:
            (value,) = struct.unpack_from("<Q", message, position)
            position += 8
        elif wire_type == _FIXED32:
            (value,) = struct.unpack_from("<I", message, position)
            position += 4
        elif wire_type == _LENGTH:
            length, position = _read_varint(message, position)
            if position + length > len(message):
                raise ValueError(f"field {field} runs past the end of its message")
            value = message[position : position + length]
            position += length
        else:
            raise ValueError(f"field {field} has unsupported wire type {wire_type}")
        yield field, wire_type, value


def _read_varint(message: bytes, position: int) -> tuple[int, int]:
    """Decode the varint at `position`; return it and the position after it."""
    value = shift = 0
    while True:
        byte = message[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift >= 70:
            raise ValueError("a varint is longer than 10 bytes")


def _parse_event(event: bytes) -> tuple[int, list[tuple[str, float]]]:
    """Return the step and the `(tag, simple_value)` pairs of a serialised Event."""
    step = 0
    points: list[tuple[str, float]] = []
    for field, wire_type, value in _fields(event):
        if field == _EVENT_STEP and wire_type == _VARINT and isinstance(value, int):
            step = value - (1 << 64) if value >> 63 else value
        elif field == _EVENT_SUMMARY and isinstance(value, bytes):
            points += _parse_summary(value)
    return step, points


def _parse_summary(summary: bytes) -> list[tuple[str, float]]:
    """Return the `(tag, simple_value)` pairs of a serialised Summary."""
    points = []
    for field, _, value in _fields(summary):
        if field != _SUMMARY_VALUE or not isinstance(value, bytes):
            continue
        tag: str | None = None
        simple_value: float | None = None
        for value_field, wire_type, item in _fields(value):
            if value_field == _VALUE_TAG and isinstance(item, bytes):
                tag = item.decode()
            elif (
                value_field == _VALUE_SIMPLE_VALUE
                and isinstance(item, int)
                and wire_type == _FIXED32
            ):
                (simple_value,) = struct.unpack("<f", item.to_bytes(4, "little"))
        if tag is not None and simple_value is not None:
            points.append((tag, simple_value))
    return points
