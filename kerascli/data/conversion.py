"""pyarrow tables → float32 matrices, and CSV read options that fit any header.

Used by `readers` (whole files) and `predicting` (streamed chunks): a value
that is not a number, or one float32 cannot hold, is an error naming the
file, the column and the file's own line (CSV) or row (`Origin.place`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kerascli.data.cells import is_number, not_a_number
from kerascli.data.places import Origin

__all__ = ["FLOAT32_MAX", "csv_read_options", "first_rows", "to_matrix"]


def first_rows(batches, rows: int):
    """A pyarrow table of the first `rows` rows of an iterator of record batches (the rest is not read)."""
    import pyarrow as pa

    taken, held = [], 0
    for batch in batches:
        taken.append(batch)
        held += batch.num_rows
        if held >= rows:
            break
    if not taken:
        raise ValueError("Empty CSV file")
    return pa.Table.from_batches(taken).slice(0, rows)


def csv_read_options(path: Path):
    """pyarrow's CSV read options with blocks that hold the header line whole.

    pyarrow reads 1 MB blocks and calls a file whose header does not fit in
    the first one "Empty CSV file"; a wide table's header can be longer.
    """
    import pyarrow.csv

    header_bytes = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            newline = chunk.find(b"\n")
            header_bytes += len(chunk) if newline < 0 else newline + 1
            if newline >= 0:
                break
    return pyarrow.csv.ReadOptions(block_size=max(1 << 20, 2 * header_bytes))


def to_matrix(table, names: list[str], origin: Origin, fail, first_row: int = 0, hint: str = "") -> np.ndarray:
    """Columns of a pyarrow table/record batch as one float32 matrix (rows × columns).

    Each column is converted chunk by chunk straight into the result, with no
    float64 intermediate of the whole table. A non-numeric column, or a number
    float32 cannot hold, is an error naming the file, the column and the
    file's line (CSV) or row (0-based) of the first offending value.

    Args:
        table: the columns, in the order of `names`.
        names: their names, for messages.
        origin: the file they come from (`origin.file` names it).
        fail: raises the error of a message.
        first_row: the file row of the table's first row (streamed chunks).
        hint: what to do about a column of text (after the message).
    """
    import pyarrow as pa

    out = np.empty((table.num_rows, len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        column = table.column(j)
        kind = column.type
        if not (
            pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_null(kind)
        ):
            values = column.to_numpy(zero_copy_only=False)
            bad = _first_non_numeric(values)
            fail(not_a_number(origin.file, name, origin.place(first_row + bad), values[bad], hint.format(name=name)))
        chunks = column.chunks if hasattr(column, "chunks") else [column]
        start = 0
        for chunk in chunks:
            values = chunk.to_numpy(zero_copy_only=False)
            if values.dtype == object:  # nulls in a bool/null column
                values = np.array([np.nan if v is None else v for v in values], dtype=np.float32)
            _check_float32_range(values, name, origin, fail, first_row + start)
            out[start : start + len(values), j] = values
            start += len(values)
    return out


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32_range(values: np.ndarray, name: str, origin: Origin, fail, first_row: int) -> None:
    """A finite number beyond float32's range would become inf silently (and warn on stderr): an error."""
    if values.dtype.kind not in "fiu" or values.dtype.itemsize <= 4 or not len(values):
        return
    with np.errstate(invalid="ignore"):
        too_big = np.abs(values.astype(np.float64, copy=False)) > FLOAT32_MAX
    too_big &= np.isfinite(values)
    if too_big.any():
        row = int(np.argmax(too_big))
        fail(
            f"{origin.file}: column '{name}', {origin.place(first_row + row)}: {float(values[row]):g} overflows "
            f"float32 (the largest is {FLOAT32_MAX:.3g}); rescale the column"
        )


def _first_non_numeric(column: np.ndarray) -> int:
    """The index of the first cell that is not a number (nor missing) as pyarrow reads a CSV."""
    for i, value in enumerate(column):
        if not is_number(value):
            return i
    return 0
