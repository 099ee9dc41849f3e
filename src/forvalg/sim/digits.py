"""Strings from numbers without a Python loop per row.

Numbers are written as a fixed-width matrix of ASCII digits (one row a value) and the
matrix is turned into an Arrow string array by handing Arrow the bytes and the offsets.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

ZERO = ord("0")


def digits(values: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.uint8]:
    """Non-negative integers as a (rows, width) matrix of zero-padded ASCII digits."""
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = values.copy()
    for column in range(width - 1, -1, -1):
        out[:, column] = rest % 10 + ZERO
        rest //= 10
    return out


def strings_from_digits(
    matrix: npt.NDArray[np.uint8],
    lengths: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64] | None = None,
) -> pa.Array:
    """Row i's lengths[i] bytes from column starts[i] (default 0) as one Arrow string
    array, with no Python per row."""
    columns = np.arange(matrix.shape[1])
    first = np.zeros(len(lengths), dtype=np.int64) if starts is None else starts
    keep = (columns >= first[:, None]) & (columns < (first + lengths)[:, None])
    data = np.ascontiguousarray(matrix[keep])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data))


def numbered(prefix: str, values: npt.NDArray[np.int64], width: int) -> pa.Array:
    """`prefix` followed by each value zero-padded to `width` digits."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    matrix = np.empty((len(values), len(head) + width), dtype=np.uint8)
    matrix[:, : len(head)] = head
    matrix[:, len(head) :] = digits(values, width)
    return strings_from_digits(matrix, np.full(len(values), matrix.shape[1], dtype=np.int64))
