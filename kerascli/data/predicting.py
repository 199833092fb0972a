"""Streamed predict: read the input in chunks, predict each, append the predictions to the file.

Peak memory does not grow with the number of rows: a CSV or Parquet input is
read incrementally with pyarrow (`open_csv`, `ParquetFile.iter_batches`), a
`.npy` input is sliced from its memory map (each chunk's pages released once
it is predicted); each chunk is a whole number of batches, so the
predictions equal those of one `model.predict` over all rows. A reader
thread reads and checks the next chunk while the model predicts this one.
Predictions are appended to a temporary file beside the target (CSV or
Parquet through pyarrow's writers, `.npy` written sequentially with its header
fixed at the end), which is renamed over the target once complete: a failure
leaves no partial file. An `.npz` input is loaded whole (it is compressed and
cannot be memory-mapped).

Imports Keras (through the model it is given): load it after the backend is chosen.
"""

from __future__ import annotations

import functools
import queue
import threading
from pathlib import Path
from typing import Iterator

import numpy as np

from kerascli.config.document import Document, Key
from kerascli.config.spec.data import Source
from kerascli.config.tables import FILE_SUFFIXES, TABLE_SUFFIXES
from kerascli.data.arrays import Origin, is_lazy, memory_bytes, release_pages, to_float32
from kerascli.data.checks import check_finite, check_inputs, check_rows
from kerascli.data.conversion import to_matrix
from kerascli.data.loading import input_selections, selections
from kerascli.data.readers import Reader
from kerascli.data.selection import names_of
from kerascli.data.writing import PredictionWriter
from kerascli.engine.tensors import tensor_name

CHUNK_BYTES = 128 * 2**20
"""About how many bytes of input one chunk holds (rounded to whole batches).

Big enough that `model.predict`'s fixed cost per call is small against the
chunk's work, small enough that a few chunks in flight stay well under 1 GB.
"""
CHUNK_ROWS = 1 << 21
"""At most this many rows per chunk (rounded to whole batches)."""


def chunk_rows(batch_size: int, row_bytes: int) -> int:
    """Rows per chunk: whole batches, about `CHUNK_BYTES` of input, at most `CHUNK_ROWS`."""
    rows = min(CHUNK_ROWS, max(1, CHUNK_BYTES // max(row_bytes, 1)))
    return max(1, rows // batch_size) * batch_size


def predict_to_file(
    model,
    source: Source,
    doc: Document,
    key: Key,
    *,
    target: Path,
    batch_size: int,
    output_names: list[str],
    labels: dict,
    kinds: dict,
) -> int:
    """Predicts on `source` chunk by chunk and writes the predictions to `target`.

    Args:
        model: the trained Keras model.
        source: the data to predict on (targets, if any, are ignored).
        doc: the config document (paths, error locations).
        key: where the source is in the config.
        target: the predictions file: `.csv`, `.parquet` or `.npy`.
        batch_size: rows per `predict` batch.
        output_names: the model's output names, in `model.outputs` order.
        labels: class vocabularies by output name (decoded in CSV/Parquet).
        kinds: output name -> "categorical", "binary" or None.

    Returns:
        The number of rows predicted.

    Raises:
        DataError: unreadable data, unknown columns, non-numeric or NaN values,
            inputs whose shape does not match `model.inputs`.
        UsageError: an unsupported output file type.
    """
    writer = PredictionWriter(target, labels, kinds)
    input_names = [tensor_name(t) for t in model.inputs]
    rows = 0
    with writer:
        # The next chunk is read and checked (pyarrow and numpy, mostly outside the GIL) while this one is predicted.
        for x in _prefetch(read_chunks(source, doc, key, input_names, output_names, batch_size, model)):
            raw = model.predict(dict(x) if len(x) > 1 else next(iter(x.values())), batch_size=batch_size, verbose=0)
            writer.write(
                raw
                if isinstance(raw, dict)
                else dict(zip(output_names, raw if isinstance(raw, (list, tuple)) else [raw]))
            )
            rows += len(next(iter(x.values())))
            if isinstance(x, Chunk):
                x.release()
    return rows


def read_chunks(
    source: Source,
    doc: Document,
    key: Key,
    input_names: list[str],
    output_names: list[str],
    batch_size: int,
    model=None,
) -> Iterator[dict[str, np.ndarray]]:
    """Yields the inputs of `source` chunk by chunk, as float32 (or integer) arrays by input name.

    Every chunk is checked (numeric, finite) before it is yielded; the first
    one also against `model.inputs` when `model` is given.
    """
    reader = Reader(source, doc, key)
    x_sel, y_sel = selections(source, reader)
    targets = names_of(y_sel)
    selected = input_selections(x_sel, input_names, doc, key)
    if reader.kind in TABLE_SUFFIXES and not any(
        isinstance(s, str) and s.lower().endswith(FILE_SUFFIXES) for s in selected.values()
    ):
        yield from _table_chunks(reader, selected, targets, key, batch_size, model, doc)
        return
    from kerascli.data.arrays import Arrays

    x = {
        name: reader.array(sel, key + (("x", name) if isinstance(x_sel, dict) else ("x",)), targets=targets)
        for name, sel in selected.items()
    }
    arrays = Arrays(x, {})
    counts = {len(v) for v in x.values()}
    if len(counts) > 1 or 0 in counts:
        check_rows(arrays, doc, key)
    if model is not None:
        check_inputs(model, x, doc, key + ("x",))
    n = len(arrays)
    step = chunk_rows(batch_size, sum(memory_bytes(v) // max(len(v), 1) for v in x.values()))
    for start in range(0, n, step):
        chunk = {}
        for name, values in x.items():
            block = np.asarray(values[start : start + step])  # a view of the memory map, no copy
            chunk[name] = to_float32(block)
            check_finite(chunk[name], name, doc, key + ("x",), first_row=start)
        yield Chunk(chunk, functools.partial(_release, x, (start, start + step)))


class Chunk(dict):
    """Input arrays of one chunk by input name; `release()` once predicted drops its pages."""

    def __init__(self, arrays: dict, release=None):
        super().__init__(arrays)
        self.release = release or (lambda: None)


def _release(x: dict, rows: tuple[int, int]) -> None:
    for values in x.values():
        if is_lazy(values):
            release_pages(values, rows)


def _table_chunks(reader: Reader, selected: dict, targets: list[str], key: Key, batch_size: int, model, doc: Document):
    columns = {name: reader.column_names(sel, key + ("x",), targets) for name, sel in selected.items()}
    wanted = list(dict.fromkeys(c for names in columns.values() for c in names))
    step = chunk_rows(batch_size, 4 * len(wanted))
    pending, held, start, checked = [], 0, 0, False
    fail = lambda m: reader.fail(key + ("x",), m)  # noqa: E731
    origin = Origin(reader.path.name, reader.kind == ".csv", columns)

    def convert(table, first_row):
        return {
            name: to_matrix(table.select(names), names, reader.path.name, fail, first_row, reader.kind == ".csv")
            for name, names in columns.items()
        }

    import pyarrow as pa

    def emit(table, first_row):
        nonlocal checked
        chunk = convert(table, first_row)
        for name, values in chunk.items():
            check_finite(values, name, doc, key + ("x",), first_row=first_row, origin=origin)
        if not checked and model is not None:
            check_inputs(model, chunk, doc, key + ("x",))
            checked = True
        return chunk

    for batch in reader.record_batches(wanted, step, key):
        pending.append(batch)
        held += batch.num_rows
        while held >= step:
            table = pa.Table.from_batches(pending)
            yield emit(table.slice(0, step), start)
            start += step
            rest = table.slice(step)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield emit(pa.Table.from_batches(pending), start)
    elif start == 0:
        reader.fail(key, f"{reader.path.name} has no rows")


def _prefetch(chunks: Iterator, depth: int = 1) -> Iterator:
    """Runs `chunks` in a thread, `depth` items ahead; re-raises its errors here."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in chunks:
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            items.put(exc)

    thread = threading.Thread(target=produce, daemon=True, name="kerascli-predict-reader")
    thread.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
