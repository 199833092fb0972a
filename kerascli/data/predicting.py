"""Streamed predict: read the input in chunks, predict each, append the predictions to the file.

Peak memory does not grow with the number of rows: a CSV or Parquet input is
read incrementally with pyarrow (`open_csv`, `ParquetFile.iter_batches`), a
`.npy` input is read from its memory map chunk by chunk (`read_rows`; any
pages touched are released once the chunk is predicted); each chunk is a whole number of batches, so the
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
from kerascli.data.checks import check_finite, check_inputs, check_rows
from kerascli.data.conversion import to_matrix
from kerascli.data.dtypes import memory_bytes, to_float32
from kerascli.data.encoding import encoded_inputs, input_array
from kerascli.data.lazy import is_lazy, read_rows, release_pages
from kerascli.data.loading import input_selections, origin_of, selections
from kerascli.data.places import Origin
from kerascli.data.readers import Reader
from kerascli.data.selection import names_of
from kerascli.data.strings import model_string_inputs, string_column, to_keras
from kerascli.data.writing import PredictionWriter
from kerascli.engine.tensors import tensor_name

CHUNK_BYTES = 32 * 2**20
"""About how many bytes of input one chunk holds (rounded to whole batches).

Big enough that `model.predict`'s fixed cost per call is small against the
chunk's work, small enough that the three chunks in flight (predicted,
queued, being read) stay near 100 MB whatever the input size.
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
    encodings: dict | None = None,
    vocabularies=None,
    target_names: dict | None = None,
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
        encodings: `data.text` and `data.categories` together, by column.
        vocabularies: the run's input `Vocabularies` (encoded columns).
        target_names: the training targets' column names by output (headers).

    Returns:
        The number of rows predicted.

    Raises:
        DataError: unreadable data, unknown columns, non-numeric or NaN values,
            inputs whose shape does not match `model.inputs`.
        UsageError: an unsupported output file type.
    """
    writer = PredictionWriter(target, labels, kinds, target_names)
    input_names = [tensor_name(t) for t in model.inputs]
    rows = 0
    encoded = {"encodings": encodings or {}, "vocabularies": vocabularies, "string_inputs": model_string_inputs(model)}
    with writer:
        # The next chunk is read and checked (pyarrow and numpy, mostly outside the GIL) while this one is predicted.
        for x in _prefetch(read_chunks(source, doc, key, input_names, output_names, batch_size, model, **encoded)):
            feed = to_keras(dict(x) if len(x) > 1 else next(iter(x.values())))  # raw strings as string tensors
            raw = model.predict(feed, batch_size=batch_size, verbose=0)
            writer.write(
                raw
                if isinstance(raw, dict)
                else dict(zip(output_names, raw if isinstance(raw, (list, tuple)) else [raw])),
                keep=getattr(x, "keep", None),
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
    encodings: dict | None = None,
    vocabularies=None,
    string_inputs: dict[str, tuple] | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Yields the inputs of `source` chunk by chunk, as float32 (or integer) arrays by input name.

    Every chunk is checked (numeric, finite) before it is yielded; the first
    one also against `model.inputs` when `model` is given. Encoded columns
    are encoded with the run's `vocabularies`; the columns of `string_inputs`
    (input name → sample shape) are raw strings. Each chunk's `keep` holds the
    columns copied into the predictions: a folder's `path`, then `source.keep`.
    """
    reader = Reader(source, doc, key)
    x_sel, y_sel = selections(source, reader)
    targets = names_of(y_sel)
    selected = input_selections(x_sel, input_names, doc, key)
    encodings, string_inputs = encodings or {}, string_inputs or {}
    if reader.kind in TABLE_SUFFIXES and not any(
        isinstance(s, str) and s.lower().endswith(FILE_SUFFIXES) for s in selected.values()
    ):
        yield from _table_chunks(
            reader, selected, targets, key, batch_size, model, doc, (encodings, vocabularies, string_inputs)
        )
        return
    from kerascli.data.arrays import Arrays

    x = {
        name: input_array(
            reader,
            sel,
            key + (("x", name) if isinstance(x_sel, dict) else ("x",)),
            targets=targets,
            encodings=encodings,
            vocabularies=vocabularies,
            fit=False,
            strings=string_inputs.get(name),
        )
        for name, sel in selected.items()
    }
    keep = keep_columns(reader, source, key)
    arrays = Arrays(x, {})
    counts = {len(v) for v in x.values()}
    if len(counts) > 1 or 0 in counts:
        check_rows(arrays, doc, key)
    if model is not None:
        check_inputs(model, x, doc, key + ("x",))
    origin = origin_of(reader, selected, targets, key)
    n = len(arrays)
    step = chunk_rows(batch_size, sum(memory_bytes(v) // max(len(v), 1) for v in x.values()))
    for start in range(0, n, step):
        chunk = {}
        for name, values in x.items():
            # Read (preadv), not sliced from the mapping: fault-around would make more of the file resident.
            chunk[name] = to_float32(read_rows(values, slice(start, start + step)))
            check_finite(chunk[name], name, doc, key + ("x",), first_row=start, origin=origin)
        kept = {k: np.asarray(v[start : start + step]) for k, v in keep.items()}
        yield Chunk(chunk, functools.partial(_release, x, (start, start + step)), kept)


def keep_columns(reader: Reader, source: Source, key: Key) -> dict[str, np.ndarray]:
    """The columns copied into the predictions of a non-table source: a folder's `path`, then `keep`."""
    keep = {"path": reader.folder_column("path", key)} if reader.folder is not None else {}
    for name in source.keep or []:
        keep[name] = np.asarray(reader.array(name, key + ("keep",), target=True))
    return keep


class Chunk(dict):
    """Input arrays of one chunk by input name; `release()` once predicted drops its pages.

    `keep` holds the chunk's rows of the columns copied into the predictions.
    """

    def __init__(self, arrays: dict, release=None, keep: dict | None = None):
        super().__init__(arrays)
        self.release = release or (lambda: None)
        self.keep = keep or {}


def _release(x: dict, rows: tuple[int, int]) -> None:
    for values in x.values():
        if is_lazy(values):
            release_pages(values, rows)


def _table_chunks(
    reader: Reader,
    selected: dict,
    targets: list[str],
    key: Key,
    batch_size: int,
    model,
    doc: Document,
    encoding: tuple,
):
    encodings, vocabularies, string_inputs = encoding
    columns = {name: reader.column_names(sel, key + ("x",), targets) for name, sel in selected.items()}
    fail = lambda m: reader.fail(key + ("x",), m)  # noqa: E731
    encoded = encoded_inputs(selected, encodings, vocabularies, fail)
    keep = reader.column_names(reader.source.keep, key + ("keep",)) if reader.source.keep else []
    wanted = list(dict.fromkeys([c for names in columns.values() for c in names] + keep))
    step = chunk_rows(batch_size, 4 * len(wanted))
    pending, held, start, checked = [], 0, 0, False

    origin = Origin(reader.path.name, columns, csv_path=reader.path if reader.kind == ".csv" else None)

    def convert_one(table, name, names, first_row):
        if name in string_inputs:
            where = f"column '{names[0]}' of {reader.path.name}"
            return string_column(table.column(names[0]), string_inputs[name], where, fail)
        if encoded[name]:
            return vocabularies[encoded[name]].encode(table.column(names[0]))
        return to_matrix(table.select(names), names, reader.path.name, fail, first_row, reader.kind == ".csv")

    def convert(table, first_row):
        chunk = Chunk({name: convert_one(table, name, names, first_row) for name, names in columns.items()})
        chunk.keep = {c: table.column(c).to_numpy(zero_copy_only=False) for c in keep}
        return chunk

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

    raw = [c for name in string_inputs if name in columns for c in columns[name]]
    strings = tuple(c for c in encoded.values() if c) + tuple(raw) + tuple(keep)
    for batch in reader.record_batches(wanted, step, key, strings=strings):
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
