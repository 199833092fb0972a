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
import os
import queue
import struct
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import numpy as np

from kerascli.config.document import Document, Key
from kerascli.config.spec.data import Source
from kerascli.data import input_selections, predictions, selections
from kerascli.data.arrays import is_lazy, memory_bytes, release_pages
from kerascli.data.checks import check_finite, check_inputs, check_rows
from kerascli.data.readers import TABLE_SUFFIXES, Reader, to_matrix
from kerascli.data.selection import names_of
from kerascli.errors import DataError, UsageError

CHUNK_BYTES = 128 * 2**20
"""About how many bytes of input one chunk holds (rounded to whole batches).

Big enough that `model.predict`'s fixed cost per call is small against the
chunk's work, small enough that a few chunks in flight stay well under 1 GB.
"""
CHUNK_ROWS = 1 << 21
"""At most this many rows per chunk (rounded to whole batches)."""
OUTPUT_SUFFIXES = (".csv", ".parquet", ".npy")


def chunk_rows(batch_size: int, row_bytes: int) -> int:
    """Rows per chunk: whole batches, about `CHUNK_BYTES` of input, at most `CHUNK_ROWS`."""
    rows = min(CHUNK_ROWS, max(1, CHUNK_BYTES // max(row_bytes, 1)))
    return max(1, rows // batch_size) * batch_size


def predict_to_file(model, source: Source, doc: Document, key: Key, *, target: Path, batch_size: int,
                    output_names: list[str], labels: dict, kinds: dict) -> int:
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
    input_names = [t.name.split(":")[0] for t in model.inputs]
    rows = 0
    with writer:
        # The next chunk is read and checked (pyarrow and numpy, mostly outside the GIL) while this one is predicted.
        for x in _prefetch(read_chunks(source, doc, key, input_names, output_names, batch_size, model)):
            raw = model.predict(dict(x) if len(x) > 1 else next(iter(x.values())), batch_size=batch_size, verbose=0)
            writer.write(raw if isinstance(raw, dict) else dict(zip(output_names, raw if isinstance(raw, (list, tuple)) else [raw])))
            rows += len(next(iter(x.values())))
            if isinstance(x, Chunk):
                x.release()
    return rows


def read_chunks(source: Source, doc: Document, key: Key, input_names: list[str], output_names: list[str],
                batch_size: int, model=None) -> Iterator[dict[str, np.ndarray]]:
    """Yields the inputs of `source` chunk by chunk, as float32 (or integer) arrays by input name.

    Every chunk is checked (numeric, finite) before it is yielded; the first
    one also against `model.inputs` when `model` is given.
    """
    reader = Reader(source, doc, key)
    x_sel, y_sel = selections(source, reader)
    targets = names_of(y_sel)
    selected = input_selections(x_sel, input_names, doc, key)
    if reader.kind in TABLE_SUFFIXES and not any(isinstance(s, str) and (s.lower().endswith((".npy", ".npz", ".csv", ".parquet"))) for s in selected.values()):
        yield from _table_chunks(reader, selected, targets, key, batch_size, model, doc)
        return
    from kerascli.data import Arrays

    x = {name: reader.array(sel, key + (("x", name) if isinstance(x_sel, dict) else ("x",)), targets=targets) for name, sel in selected.items()}
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
            block = np.asarray(values[start:start + step])  # a view of the memory map, no copy
            chunk[name] = block.astype(np.float32) if block.dtype == np.float64 else block
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

    def convert(table, first_row):
        return {name: to_matrix(table.select(names), names, reader.path.name, fail, first_row) for name, names in columns.items()}

    import pyarrow as pa

    def emit(table, first_row):
        nonlocal checked
        chunk = convert(table, first_row)
        for name, values in chunk.items():
            check_finite(values, name, doc, key + ("x",), first_row=first_row)
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


class PredictionWriter:
    """Appends predictions chunk by chunk to a temporary file, renamed over `target` on success.

    CSV and Parquet hold, per output, the decoded label and one probability
    column per class for classifiers, one column per unit otherwise (prefixed
    `<output>.` when there are several outputs), the same columns as
    `kerascli.data.predictions.columns`. `.npy` holds the raw predictions: one file,
    or `<stem>.<output>.npy` per output.

    Args:
        target: the predictions file.
        labels: class vocabularies by output name.
        kinds: output name -> "categorical", "binary" or None.
    """

    def __init__(self, target: Path, labels: dict, kinds: dict):
        self.target = Path(target)
        self.suffix = self.target.suffix.lower()
        if self.suffix not in OUTPUT_SUFFIXES:
            raise UsageError(f"--output: unsupported file type '{self.target.suffix}', expected one of: {', '.join(OUTPUT_SUFFIXES)}")
        self.labels = labels
        self.kinds = kinds
        self._files: dict[Path, Path] = {}  # final path -> temp path
        self._npy: dict[str, _NpyAppender] = {}
        self._table_writer = None
        self._csv_handle = None

    def __enter__(self) -> "PredictionWriter":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def _temp(self, final: Path) -> Path:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}", dir=final.parent)
        os.close(fd)
        self._files[final] = Path(tmp)
        return Path(tmp)

    def write(self, by_output: dict[str, np.ndarray]) -> None:
        """Appends one chunk of predictions (arrays by output name)."""
        if self.suffix == ".npy":
            for name, values in by_output.items():
                if name not in self._npy:
                    final = self.target if len(by_output) == 1 else self.target.with_name(f"{self.target.stem}.{name}.npy")
                    self._npy[name] = _NpyAppender(self._temp(final))
                self._npy[name].append(np.asarray(values))
            return
        import pyarrow as pa

        headers, cols = [], []
        multi = len(by_output) > 1
        for name, values in by_output.items():
            h, c = predictions.columns(name, np.asarray(values), self.labels.get(name), self.kinds.get(name), f"{name}." if multi else "")
            headers += h
            cols += c
        table = pa.table({h: pa.array(c.tolist() if c.dtype == object else c) for h, c in zip(headers, cols)})
        if self._table_writer is None:
            tmp = self._temp(self.target)
            if self.suffix == ".csv":
                import csv

                import pyarrow.csv

                # pyarrow quotes every header name; the header is written as a csv module would.
                self._csv_handle = open(tmp, "w", newline="", encoding="utf-8")
                csv.writer(self._csv_handle).writerow(headers)
                self._csv_handle.flush()
                # Arrow's "needed" quotes every string; labels without , " or newlines need none.
                plain = not any(set(str(v)) & set(',"\r\n') for vocab in self.labels.values() for v in vocab)
                options = pyarrow.csv.WriteOptions(include_header=False, quoting_style="none" if plain else "needed")
                self._table_writer = pyarrow.csv.CSVWriter(self._csv_handle.buffer, table.schema, write_options=options)
            else:
                import pyarrow.parquet

                self._table_writer = pyarrow.parquet.ParquetWriter(str(tmp), table.schema)
        self._table_writer.write_table(table)

    def close(self) -> None:
        """Finishes every file, fsyncs it and renames it over its target."""
        if self._table_writer is not None:
            self._table_writer.close()
        if self._csv_handle is not None:
            self._csv_handle.close()
        for appender in self._npy.values():
            appender.close()
        if not self._files:
            raise DataError("nothing to predict: the input has no rows")
        for final, tmp in self._files.items():
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        self._files.clear()

    def abort(self) -> None:
        """Removes the temporary files; the targets are left as they were."""
        try:
            if self._table_writer is not None:
                self._table_writer.close()
            if self._csv_handle is not None:
                self._csv_handle.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away
            pass
        for appender in self._npy.values():
            appender.handle.close()
        for tmp in self._files.values():
            tmp.unlink(missing_ok=True)
        self._files.clear()


class _NpyAppender:
    """Writes a `.npy` file row block by row block; the header's shape is fixed on close.

    The header is written first with room for any row count (padded, as the
    format allows), so rows are appended sequentially and never held in memory.
    """

    MAGIC = b"\x93NUMPY\x01\x00"

    def __init__(self, path: Path):
        self.path = path
        self.handle = open(path, "wb")
        self.rows = 0
        self.dtype = None
        self.tail = None
        self.header_len = 0

    def _header(self, rows: int) -> bytes:
        descr = np.lib.format.dtype_to_descr(self.dtype)
        text = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, (rows, *self.tail))
        return text.encode("latin1")

    def append(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values)
        if self.dtype is None:
            self.dtype, self.tail = values.dtype, tuple(values.shape[1:])
            widest = len(self._header(10**18))
            self.header_len = -(-(len(self.MAGIC) + 2 + widest + 1) // 64) * 64
            self.handle.write(b"\0" * self.header_len)
        self.handle.write(values.astype(self.dtype, copy=False).tobytes())
        self.rows += len(values)

    def close(self) -> None:
        text = self._header(self.rows)
        body = self.header_len - len(self.MAGIC) - 2
        self.handle.seek(0)
        self.handle.write(self.MAGIC + struct.pack("<H", body) + text.ljust(body - 1) + b"\n")
        self.handle.close()
