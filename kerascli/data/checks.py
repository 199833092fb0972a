"""Strict data checks, run before any training: each a `DataError` naming the file or column.

Row counts, NaN/inf (count + first row), integer labels outside the model's
classes, and sample shapes against `model.inputs`. Scans go block by block
(`row_chunks`), so checking a memory-mapped file never loads it whole.
"""

from __future__ import annotations

import numpy as np

from kerascli.config.document import Document, Key
from kerascli.data.arrays import Arrays
from kerascli.data.lazy import RowView, row_chunks
from kerascli.data.places import Origin
from kerascli.engine.tensors import tensor_name
from kerascli.errors import DataError

CATEGORICAL = "categorical"
BINARY = "binary"


def _fail(doc: Document, key: Key, message: str):
    raise DataError(doc.problem(key, message))


def check_rows(arrays: Arrays, doc: Document, key: Key) -> None:
    """Same row count everywhere, at least one row, and only finite numbers.

    Raises:
        DataError: mismatched row counts, no rows, NaN or inf values.
    """
    counts = {f"x.{k}": len(v) for k, v in arrays.x.items()}
    counts.update({f"y.{k}": len(v) for k, v in arrays.y.items()})
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{k}: {v}" for k, v in counts.items())
        _fail(doc, key, f"inputs and targets have different row counts ({detail})")
    if not counts or next(iter(counts.values())) == 0:
        _fail(doc, key, "the data has no rows")
    for kind, group in (("x", arrays.x), ("y", arrays.y)):
        for name, values in group.items():
            check_finite(values, name, doc, key + (kind,), origin=arrays.origin)


def check_finite(values, name: str, doc: Document, key: Key, first_row: int = 0, origin: Origin | None = None) -> None:
    """Raises a `DataError` if floating-point `values` hold NaN or inf.

    The message names the file, the column and the file's own line (CSV) or
    row of the first bad value, and how many rows are bad:
    `tiny-nan.csv: column 'b', line 3: NaN (an empty cell reads as NaN)`.

    Args:
        values: an input or target array.
        name: the model input or output it feeds.
        doc: the config document.
        key: where the source is in the config.
        first_row: the file row of `values[0]` (streamed chunks).
        origin: the file the rows come from, when known.
    """
    if not np.issubdtype(values.dtype, np.floating) or not len(values):
        return
    if getattr(getattr(values, "base", values), "known_finite", False):
        return  # decoded images: pixels are never NaN, and scanning would decode every file
    count, first = 0, None
    with np.errstate(all="ignore"):
        for start, block in row_chunks(values):
            if np.isfinite(np.add.reduce(block, axis=None)):
                continue  # NaN or inf makes the sum non-finite (so may an overflow: then the exact check runs)
            bad = ~np.isfinite(block.reshape(len(block), -1)).all(axis=1)
            if bad.any():
                count += int(bad.sum())
                if first is None:
                    row = int(np.argmax(bad))
                    first = (start + row, block.reshape(len(block), -1)[row])
    if count:
        _fail(doc, key, _non_finite_message(name, first_row + first[0], first[1], count, origin))


def _non_finite_message(name: str, row: int, values: np.ndarray, count: int, origin: Origin | None) -> str:
    column = int(np.argmax(~np.isfinite(values)))
    value = values[column]
    cells = origin is not None and origin.csv  # only a CSV has empty cells that read as NaN
    what = (
        ("NaN (an empty cell reads as NaN)" if cells else "NaN")
        if np.isnan(value)
        else f"{'-' if value < 0 else ''}inf"
    )
    columns = origin.columns.get(name) if origin is not None else None
    place = origin.place(row) if origin is not None else f"row {row}"
    if columns and len(columns) == values.size:
        where = f"column '{columns[column]}'"
    elif columns and len(columns) == 1 and origin.file.lower().endswith(".npz"):
        where = f"array '{columns[0]}'"  # one NPZ key holds the whole row
    else:
        where = f"'{name}'"
    more = f" ({count} rows hold NaN or inf)" if count > 1 else ""
    return f"{origin.file + ': ' if origin is not None else ''}{where}, {place}: {what}{more}"


def check_inputs(model, x: dict, doc: Document, key: Key, model_key: Key | None = None) -> None:
    """Checks the data's sample shapes against `model.inputs`.

    Args:
        model: the Keras model.
        x: input arrays by name (a lone array feeds a single-input model).
        doc: the config document.
        key: the data source's `x` key, where a mismatch is reported.
        model_key: where to report instead when the shapes came from the config.

    Raises:
        DataError: a model input without data, or a shape mismatch.
    """
    for tensor in model.inputs:
        name = tensor_name(tensor)
        values = x.get(name) if name in x else (next(iter(x.values())) if len(x) == 1 else None)
        if values is None:
            _fail(doc, key, f"no data for model input '{name}'; give 'x' as a mapping with that key")
        expected = tuple(tensor.shape[1:])
        got = tuple(values.shape[1:])
        if len(expected) != len(got) or any(e is not None and e != g for e, g in zip(expected, got)):
            _fail(
                doc,
                model_key + (name,) if model_key else key,
                f"input '{name}' expects samples of shape {list(expected)}, the data has {list(got)}",
            )


def check_classes(model, arrays: Arrays, kinds: dict, doc: Document, key: Key) -> None:
    """Integer class labels must index the model's classes.

    A sparse categorical output of `units` classes takes labels `0..units-1`;
    a binary output takes targets in `[0, 1]`. A label outside trains on
    garbage (or NaN) instead of failing, so it is caught here.

    Args:
        model: the built Keras model.
        arrays: the data; targets keyed by output name.
        kinds: output name -> "categorical", "binary" or None (from the loss).
        doc: the config document.
        key: the source's key (the error points at its `y`).

    Raises:
        DataError: the first label out of range, with its row and the valid range.
    """
    shapes = {tensor_name(t): t.shape for t in model.outputs}
    by_position = dict(zip(arrays.y, model.outputs)) if len(arrays.y) == len(model.outputs) == 1 else {}
    for name, values in arrays.y.items():
        tensor_shape = shapes.get(name, by_position.get(name).shape if name in by_position else None)
        kind = kinds.get(name)
        if tensor_shape is None or kind is None:
            continue
        units = tensor_shape[-1]
        sparse = values.ndim == 1 or (values.ndim == 2 and values.shape[1] == 1)
        if kind == CATEGORICAL and sparse and units == 1:  # one class: the loss is 0 whatever the label
            low, high, what = 0, 0, "the model's 1 class (0); a binary target takes binary_crossentropy, or 2 units"
        elif kind == CATEGORICAL and sparse and units and units > 1:
            low, high, what = 0, units - 1, f"the model's {units} classes (0 to {units - 1})"
        elif kind == BINARY and (units == 1 or values.shape[1:] == tuple(tensor_shape[1:])):
            low, high, what = 0, 1, "0 to 1 (a binary output)"
        else:
            continue
        integers = kind == CATEGORICAL  # sparse categorical labels index classes: 0.5 is no class
        for start, block in row_chunks(values):
            flat = block.reshape(len(block), -1)
            outside = (flat < low) | (flat > high)
            if integers and np.issubdtype(flat.dtype, np.floating):
                outside |= flat != np.floor(flat)
            bad = outside.any(axis=1)
            if bad.any():
                row = int(np.argmax(bad))
                label = flat[row][outside[row]][0]
                label = int(label) if float(label).is_integer() else float(label)
                if arrays.origin is not None:  # the file's own line or row, also after a split
                    place = f"{arrays.origin.file}: {arrays.origin.place(start + row)}"
                else:
                    place = f"row {int(values.rows[start + row]) if isinstance(values, RowView) else start + row}"
                problem = (
                    f"is not a class index: sparse labels are the integers {low} to {high}"
                    if isinstance(label, float)
                    else f"is outside {what}"
                )
                _fail(doc, key + ("y",), f"label {label} of '{name}' ({place}) {problem}")
