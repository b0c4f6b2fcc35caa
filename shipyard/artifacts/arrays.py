"""Arrow arrays to and from NumPy through their buffers.

PyArrow's own conversions (`Array.to_numpy`, `pa.array`, Python scalars given to compute
functions) import pandas the first time they run: 0.2 s of a `shipyard monitor` run that
otherwise never needs it, and 0.27 s of the training's warm worker on a cold run's critical
path (`shipyard.components.train.data.column_numpy`). These build and read the buffers
directly: primitive types only, nulls through the validity bitmap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def to_numpy(array: pa.Array, dtype: str, *, null: float) -> np.ndarray:
    """Return a primitive array's values as `dtype`, `null` where missing.

    Args:
        array: An int, float or bool array (not chunked).
        dtype: The NumPy type of the array's values, e.g. "float64" for a `double` array.
        null: The value of the missing ones.
    """
    import numpy as np

    if len(array) == 0:
        return np.zeros(0, dtype=dtype)
    width = np.dtype(dtype).itemsize
    values = np.frombuffer(
        array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * width
    )
    if array.null_count == 0:
        return values
    return np.where(valid_mask(array), values, np.asarray(null, dtype=dtype))


def valid_mask(array: pa.Array) -> np.ndarray:
    """Return which values of an array are not null."""
    import numpy as np

    bitmap = array.buffers()[0]
    if bitmap is None:
        return np.ones(len(array), dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return bits[array.offset : array.offset + len(array)].astype(bool)


def from_numpy(values: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    """Return a NumPy array of numbers or booleans as an Arrow array, null where `valid`
    (if given) is False."""
    import numpy as np
    import pyarrow as pa

    mask = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [mask, pa.py_buffer(bits)])
    contiguous = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(contiguous.dtype)
    return pa.Array.from_buffers(kind, len(contiguous), [mask, pa.py_buffer(contiguous)])


def strings(values: tuple[str, ...] | list[str]) -> pa.Array:
    """Return Python strings as an Arrow string array."""
    import numpy as np
    import pyarrow as pa

    encoded = [value.encode("utf-8") for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(value) for value in encoded], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers)


def int_scalar(value: int) -> pa.Scalar:
    """Return an int64 scalar, for compute functions' arguments."""
    import numpy as np

    return from_numpy(np.asarray([value], dtype=np.int64))[0]
