"""A source's inputs chunk by chunk, each chunk checked, for streamed predict.

Peak memory does not grow with the number of rows: a CSV or Parquet input is
read incrementally with pyarrow (`open_csv`, `ParquetFile.iter_batches`), a
`.npy` input is read from its memory map chunk by chunk (`read_rows`; any
pages touched are released once the chunk is predicted). Each chunk is a
whole number of batches, so predictions equal those of one `model.predict`
over all rows. Every chunk is checked (numeric, finite) before it is
yielded, the first one also against `model.inputs`; errors name the file,
the column and the file's own line (CSV) or row.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Iterator

import numpy as np

from kerascli.config.document import Document, Key
from kerascli.config.spec.data import Source
from kerascli.config.tables import FILE_SUFFIXES, TABLE_SUFFIXES
from kerascli.data.arrays import Arrays
from kerascli.data.cells import NUMBERS_HINT
from kerascli.data.checks import check_finite, check_inputs, check_rows
from kerascli.data.conversion import to_matrix
from kerascli.data.dtypes import memory_bytes, to_float32
from kerascli.data.encoding import encoded_inputs, input_array
from kerascli.data.lazy import is_lazy, read_rows, release_pages
from kerascli.data.loading import input_selections, origin_of, selections
from kerascli.data.readers import Reader
from kerascli.data.selection import names_of
from kerascli.data.strings import string_column

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


class Chunk(dict):
    """Input arrays of one chunk by input name; `release()` once predicted drops its pages.

    `keep` holds the chunk's rows of the columns copied into the predictions.
    """

    def __init__(self, arrays: dict, release=None, keep: dict | None = None):
        super().__init__(arrays)
        self.release = release or (lambda: None)
        self.keep = keep or {}


@dataclasses.dataclass
class _Plan:
    """What `read_chunks` reads: the source's reader, each input's selection, and how inputs are encoded."""

    reader: Reader
    doc: Document
    key: Key
    x_sel: object
    selected: dict
    targets: list[str]
    batch_size: int
    model: object
    encodings: dict
    vocabularies: object
    string_inputs: dict

    def fail(self, message: str):
        self.reader.fail(self.key + ("x",), message)

    def check_first(self, chunk: dict) -> None:
        """The first chunk's sample shapes against `model.inputs`."""
        if self.model is not None:
            check_inputs(self.model, chunk, self.doc, self.key + ("x",))


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
    selected = input_selections(x_sel, input_names, doc, key)
    plan = _Plan(
        reader=reader,
        doc=doc,
        key=key,
        x_sel=x_sel,
        selected=selected,
        targets=names_of(y_sel),
        batch_size=batch_size,
        model=model,
        encodings=encodings or {},
        vocabularies=vocabularies,
        string_inputs=string_inputs or {},
    )
    own_files = any(isinstance(s, str) and s.lower().endswith(FILE_SUFFIXES) for s in selected.values())
    if reader.kind in TABLE_SUFFIXES and not own_files:
        yield from _table_chunks(plan)
    else:
        yield from _array_chunks(plan, source)


def _array_chunks(plan: _Plan, source: Source) -> Iterator[Chunk]:
    """Chunks of arrays (memory maps, NPZ, folders): loaded lazily, read and checked a chunk at a time."""
    reader, key = plan.reader, plan.key
    x = {
        name: input_array(
            reader,
            sel,
            key + (("x", name) if isinstance(plan.x_sel, dict) else ("x",)),
            targets=plan.targets,
            encodings=plan.encodings,
            vocabularies=plan.vocabularies,
            fit=False,
            strings=plan.string_inputs.get(name),
        )
        for name, sel in plan.selected.items()
    }
    keep = keep_columns(reader, source, key)
    counts = {len(v) for v in x.values()}
    if len(counts) > 1 or 0 in counts:
        check_rows(Arrays(x, {}), plan.doc, key)
    plan.check_first(x)
    origin = origin_of(reader, plan.selected, plan.targets, key)
    n = len(next(iter(x.values())))
    step = chunk_rows(plan.batch_size, sum(memory_bytes(v) // max(len(v), 1) for v in x.values()))
    for start in range(0, n, step):
        chunk = {}
        for name, values in x.items():
            # Read (preadv), not sliced from the mapping: fault-around would make more of the file resident.
            chunk[name] = to_float32(read_rows(values, slice(start, start + step)))
            check_finite(chunk[name], name, plan.doc, key + ("x",), first_row=start, origin=origin)
        kept = {k: np.asarray(v[start : start + step]) for k, v in keep.items()}
        yield Chunk(chunk, functools.partial(_release, x, (start, start + step)), kept)


def keep_columns(reader: Reader, source: Source, key: Key) -> dict[str, np.ndarray]:
    """The columns copied into the predictions of a non-table source: a folder's `path`, then `keep`."""
    keep = {"path": reader.folder_column("path", key)} if reader.folder is not None else {}
    for name in source.keep or []:
        keep[name] = np.asarray(reader.array(name, key + ("keep",), target=True))
    return keep


def _release(x: dict, rows: tuple[int, int]) -> None:
    for values in x.values():
        if is_lazy(values):
            release_pages(values, rows)


class _TableConverter:
    """Converts record batches of a table to checked input chunks (numbers, encoded ids or raw strings)."""

    def __init__(self, plan: _Plan):
        reader = plan.reader
        self.plan = plan
        self.columns = {n: reader.column_names(s, plan.key + ("x",), plan.targets) for n, s in plan.selected.items()}
        self.encoded = encoded_inputs(plan.selected, plan.encodings, plan.vocabularies, plan.fail)
        self.keep = reader.column_names(reader.source.keep, plan.key + ("keep",)) if reader.source.keep else []
        self.origin = reader.origin(self.columns)
        self.checked = False

    def wanted(self) -> list[str]:
        """Every column read: the inputs', then the kept ones."""
        return list(dict.fromkeys([c for names in self.columns.values() for c in names] + self.keep))

    def text_columns(self) -> tuple[str, ...]:
        """The columns read as text: encoded, raw string inputs, kept."""
        raw = [c for name in self.plan.string_inputs if name in self.columns for c in self.columns[name]]
        return tuple(c for c in self.encoded.values() if c) + tuple(raw) + tuple(self.keep)

    def chunk(self, table, first_row: int) -> Chunk:
        """The checked chunk of `table`, whose first row is file row `first_row`."""
        plan = self.plan
        chunk = Chunk({name: self._input(table, name, names, first_row) for name, names in self.columns.items()})
        chunk.keep = {c: table.column(c).to_numpy(zero_copy_only=False) for c in self.keep}
        for name, values in chunk.items():
            check_finite(values, name, plan.doc, plan.key + ("x",), first_row=first_row, origin=self.origin)
        if not self.checked:
            plan.check_first(chunk)
            self.checked = True
        return chunk

    def _input(self, table, name: str, names: list[str], first_row: int):
        plan = self.plan
        if name in plan.string_inputs:
            where = f"column '{names[0]}' of {plan.reader.path.name}"
            return string_column(table.column(names[0]), plan.string_inputs[name], where, plan.fail)
        if self.encoded[name]:
            return plan.vocabularies[self.encoded[name]].encode(table.column(names[0]))
        return to_matrix(table.select(names), names, self.origin, plan.fail, first_row, NUMBERS_HINT)


def _table_chunks(plan: _Plan) -> Iterator[Chunk]:
    """Chunks of a CSV or Parquet file: its record batches regrouped into chunks of whole batches."""
    import pyarrow as pa

    converter = _TableConverter(plan)
    wanted = converter.wanted()
    step = chunk_rows(plan.batch_size, 4 * len(wanted))
    pending, held, start = [], 0, 0
    for batch in plan.reader.record_batches(wanted, step, plan.key, strings=converter.text_columns()):
        pending.append(batch)
        held += batch.num_rows
        while held >= step:
            table = pa.Table.from_batches(pending)
            yield converter.chunk(table.slice(0, step), start)
            start += step
            rest = table.slice(step)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield converter.chunk(pa.Table.from_batches(pending), start)
    elif start == 0:
        plan.reader.fail(plan.key, f"{plan.reader.path.name} has no rows")
