"""EventWriter's files read back by the real tensorboard package and by `read_scalars`."""

from __future__ import annotations

import io
import math
import struct
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import (  # type: ignore[import-untyped]
    EventAccumulator,
)
from tensorboard.compat.proto.event_pb2 import Event  # type: ignore[import-untyped]
from tensorboard.compat.proto.summary_pb2 import Summary  # type: ignore[import-untyped]
from tensorboard.summary.writer.record_writer import RecordWriter  # type: ignore[import-untyped]

from shipyard.components.train.tensorboard import (
    FILE_VERSION,
    EventWriter,
    crc32c,
    masked_crc32c,
    read_scalars,
)
from shipyard.errors import DataError

EPOCHS = {
    1: {"train_loss": 0.91, "eval_loss": 0.97, "eval_accuracy": 0.51, "learning_rate": 1e-3},
    2: {"train_loss": 0.52, "eval_loss": 0.61, "eval_accuracy": 0.74, "learning_rate": 5e-4},
    3: {"train_loss": 0.33, "eval_loss": 0.45, "eval_accuracy": 0.88, "learning_rate": 2.5e-4},
}


def f32(value: float) -> float:
    """`value` rounded to float32, as the event file stores it."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def write_epochs(logdir: Path) -> EventWriter:
    with EventWriter(logdir) as writer:
        for epoch, values in EPOCHS.items():
            writer.add_scalars(values, step=epoch)
            writer.flush()
    return writer


def test_crc32c_matches_the_known_check_values() -> None:
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720, B.4
    assert masked_crc32c(b"") == 0xA282EAD8


def test_the_bytes_are_those_tensorboard_writes(tmp_path: Path) -> None:
    with EventWriter(tmp_path) as writer:
        writer.add_scalar("eval_loss", 0.25, step=3, wall_time=1700000000.5)
    content = writer.path.read_bytes()
    (length,) = struct.unpack_from("<Q", content)
    wall_time = Event.FromString(content[12 : 12 + length]).wall_time  # the first record's

    expected = io.BytesIO()
    records = RecordWriter(expected)
    records.write(Event(wall_time=wall_time, file_version=FILE_VERSION).SerializeToString())
    value = Summary.Value(tag="eval_loss", simple_value=0.25)
    summary = Summary(value=[value])
    event = Event(wall_time=1700000000.5, step=3, summary=summary)
    records.write(event.SerializeToString())
    assert writer.path.read_bytes() == expected.getvalue()


def test_tensorboard_reads_the_scalars(tmp_path: Path) -> None:
    writer = write_epochs(tmp_path / "logs")

    assert writer.path.parent == tmp_path / "logs"
    assert writer.path.name.startswith("events.out.tfevents.")
    accumulator = EventAccumulator(str(tmp_path / "logs"))
    accumulator.Reload()
    assert accumulator.file_version == float(FILE_VERSION.split(":")[1])
    assert sorted(accumulator.Tags()["scalars"]) == sorted(EPOCHS[1])
    for tag in EPOCHS[1]:
        events = accumulator.Scalars(tag)
        assert [event.step for event in events] == list(EPOCHS)
        assert [event.value for event in events] == [f32(EPOCHS[e][tag]) for e in EPOCHS]
        assert all(event.wall_time > 0 for event in events)


def test_wall_time_step_and_odd_values_round_trip(tmp_path: Path) -> None:
    with EventWriter(tmp_path, filename_suffix=".shipyard") as writer:
        writer.add_scalar("ünïcode/tag", -2.5, step=0, wall_time=1234.5)
        writer.add_scalar("ünïcode/tag", 1e300, step=2**40, wall_time=1235.25)
        writer.add_scalar("ünïcode/tag", math.nan, step=-1, wall_time=1236.0)

    assert writer.path.name.endswith(".shipyard")
    accumulator = EventAccumulator(str(tmp_path))
    accumulator.Reload()
    events = accumulator.Scalars("ünïcode/tag")
    assert [(e.wall_time, e.step) for e in events] == [(1234.5, 0), (1235.25, 2**40), (1236.0, -1)]
    assert events[0].value == -2.5
    assert events[1].value == math.inf
    assert math.isnan(events[2].value)
    points = read_scalars(tmp_path)["ünïcode/tag"]
    assert points[:2] == [(0, -2.5), (2**40, math.inf)]
    assert points[2][0] == -1
    assert math.isnan(points[2][1])


def test_read_scalars_agrees_with_tensorboard(tmp_path: Path) -> None:
    write_epochs(tmp_path)

    accumulator = EventAccumulator(str(tmp_path))
    accumulator.Reload()
    scalars = read_scalars(tmp_path)
    assert sorted(scalars) == sorted(EPOCHS[1])
    for tag, points in scalars.items():
        assert points == [(e.step, e.value) for e in accumulator.Scalars(tag)]


def test_read_scalars_of_an_empty_or_missing_directory_is_empty(tmp_path: Path) -> None:
    assert read_scalars(tmp_path) == {}
    assert read_scalars(tmp_path / "missing") == {}
    EventWriter(tmp_path).close()
    assert read_scalars(tmp_path) == {}


def test_a_flipped_byte_is_a_data_error_naming_the_file(tmp_path: Path) -> None:
    writer = write_epochs(tmp_path)
    content = bytearray(writer.path.read_bytes())
    content[len(content) // 2] ^= 0x01
    writer.path.write_bytes(bytes(content))

    with pytest.raises(DataError, match="checksum") as caught:
        read_scalars(tmp_path)
    assert caught.value.path == str(writer.path)
    assert writer.path.name in str(caught.value)


def test_a_flipped_length_byte_is_a_data_error(tmp_path: Path) -> None:
    writer = write_epochs(tmp_path)
    content = bytearray(writer.path.read_bytes())
    content[0] ^= 0x80
    writer.path.write_bytes(bytes(content))

    with pytest.raises(DataError, match="byte 0 is corrupt: the checksum of its length"):
        read_scalars(tmp_path)


def test_a_record_cut_short_at_the_end_is_skipped(tmp_path: Path) -> None:
    writer = write_epochs(tmp_path)
    content = writer.path.read_bytes()
    writer.path.write_bytes(content[:-3])

    scalars = read_scalars(tmp_path)
    assert sum(len(points) for points in scalars.values()) == 3 * len(EPOCHS[1]) - 1


def test_two_writers_in_one_directory_write_distinct_files(tmp_path: Path) -> None:
    with EventWriter(tmp_path) as first, EventWriter(tmp_path) as second:
        first.add_scalar("train_loss", 1.0, step=1)
        second.add_scalar("eval_loss", 2.0, step=1)

    assert first.path != second.path
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.path.name, second.path.name])
    assert read_scalars(tmp_path) == {"train_loss": [(1, 1.0)], "eval_loss": [(1, 2.0)]}
    accumulator = EventAccumulator(str(tmp_path))
    accumulator.Reload()
    assert sorted(accumulator.Tags()["scalars"]) == ["eval_loss", "train_loss"]
