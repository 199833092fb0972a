"""Lazy arrays over memory maps: `.npy` shards as one array, row views, and reading rows without page faults.

A `.npy` file is memory-mapped, a directory of `.npy` shards is a
`ShardedArray`, and a seeded split of either is a `RowView` (the rows by
index, nothing copied). These "lazy" arrays are read batch by batch: only the
rows asked for are copied into RAM, and `release_pages` drops the pages a
memory map has touched from the process' resident set, so streaming a file
bigger than RAM keeps the resident memory flat.
"""

from __future__ import annotations

import mmap
import os

import numpy as np

from kerascli.data.dtypes import loaded_dtype, memory_bytes, to_float32

CHUNK_BYTES = 16 * 2**20
"""About how many bytes one block of a scan (`row_chunks`, `read_all`) holds."""


class ShardedArray:
    """Several memory-mapped `.npy` shards seen as one array, stacked along rows.

    Args:
        parts: the shards, in order; same dtype and same trailing shape.
    """

    def __init__(self, parts: list[np.ndarray]):
        self.parts = parts
        self.offsets = np.cumsum([0] + [len(p) for p in parts])
        self.shape = (int(self.offsets[-1]),) + tuple(parts[0].shape[1:])
        self.dtype = parts[0].dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                pieces = []
                for k, part in enumerate(self.parts):
                    lo, hi = max(start, self.offsets[k]), min(stop, self.offsets[k + 1])
                    if lo < hi:
                        pieces.append(part[lo - self.offsets[k] : hi - self.offsets[k]])
                if not pieces:
                    return np.empty((0,) + self.shape[1:], self.dtype)
                return np.concatenate(pieces) if len(pieces) > 1 else np.array(pieces[0])
            index = np.arange(start, stop, step)
        index = np.asarray(index)
        if index.ndim == 0:
            k = int(np.searchsorted(self.offsets, index, side="right") - 1)
            return np.asarray(self.parts[k][int(index) - self.offsets[k]])
        index = np.where(index < 0, index + len(self), index)
        which = np.searchsorted(self.offsets, index, side="right") - 1
        out = np.empty((len(index),) + self.shape[1:], self.dtype)
        for k in np.unique(which):
            mask = which == k
            out[mask] = self.parts[k][index[mask] - self.offsets[k]]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.concatenate(self.parts)
        return whole if dtype is None else whole.astype(dtype)

    def release(self) -> None:
        for part in self.parts:
            release_pages(part)


class RowView:
    """Rows `rows` of `base`, by index: the validation or training side of a split.

    Args:
        base: a memory map, `ShardedArray` or any lazy array.
        rows: indices into `base`.
    """

    def __init__(self, base, rows: np.ndarray):
        self.base = base
        self.rows = np.asarray(rows)
        self.shape = (len(self.rows),) + tuple(base.shape[1:])
        self.dtype = base.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index) -> np.ndarray:
        return np.asarray(self.base[self.rows[index]])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = np.asarray(self.base[self.rows])
        return out if dtype is None else out.astype(dtype)

    def release(self) -> None:
        release_pages(self.base)


def read_rows(values, rows) -> np.ndarray:
    """Rows `rows` (a slice or sorted indices) of `values`, copied into a new array.

    A memory map of a whole `.npy` file is read with `os.preadv` rather than
    through the mapping: the kernel maps whole neighbourhoods (fault-around,
    large folios) on every page fault, so gathering a few random rows through
    a mapping makes most of the file resident. Reading copies only the rows
    asked for and leaves the resident memory alone.
    """
    if isinstance(values, RowView):
        return read_rows(values.base, values.rows[rows])
    if isinstance(values, ShardedArray):
        index = np.arange(len(values))[rows] if isinstance(rows, slice) else np.asarray(rows)
        which = np.searchsorted(values.offsets, index, side="right") - 1
        out = np.empty((len(index),) + values.shape[1:], values.dtype)
        for k in np.unique(which):
            mask = which == k
            out[mask] = read_rows(values.parts[k], index[mask] - values.offsets[k])
        return out
    if whole_file_map(values):
        return _pread_rows(values, rows)
    return np.asarray(values[rows])


def read_all(values) -> np.ndarray:
    """All of `values` (a memory map, shards, a row view or an array) in RAM, in its loaded dtype.

    Lazy data is read block by block (`read_rows`, not page faults through a
    mapping, whose touched pages would count in the resident set as much as
    the copy) into one array allocated up front, float64 converted per
    block: the peak is the result plus one block. A `RowView`'s rows are
    scattered into place as their blocks are read, in the view's order. Other
    lazy arrays (decoded image files) load through their own `__array__`.
    """
    base, rows = (values.base, values.rows) if isinstance(values, RowView) else (values, None)
    if not isinstance(base, (np.memmap, ShardedArray)):  # in RAM already, or a reader of its own (image files)
        return to_float32(np.asarray(values))
    total = len(base)
    out = np.empty((total if rows is None else len(rows),) + tuple(base.shape[1:]), loaded_dtype(base.dtype))
    step = max(1, CHUNK_BYTES // max(1, memory_bytes(base) // max(total, 1)))
    if rows is not None:
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
    for start in range(0, total, step):
        stop = min(start + step, total)
        if rows is None:
            out[start:stop] = read_rows(base, slice(start, stop))
            continue
        lo, hi = np.searchsorted(wanted, [start, stop])
        if lo < hi:
            out[order[lo:hi]] = read_rows(base, slice(start, stop))[wanted[lo:hi] - start]
    release_pages(base)
    return out


def whole_file_map(values) -> bool:
    """Whether `values` is a C-ordered memory map of a whole `.npy` file (so rows can be read from the file)."""
    if not isinstance(values, np.memmap) or getattr(values, "filename", None) is None or not values.flags.c_contiguous:
        return False
    try:
        return os.path.getsize(values.filename) == values.offset + values.nbytes
    except (OSError, TypeError):
        return False


def _pread_rows(values: np.memmap, rows) -> np.ndarray:
    row_bytes = values.strides[0]
    if isinstance(rows, slice):
        start, stop, _ = rows.indices(len(values))
        index = np.arange(start, stop)
    else:
        index = np.asarray(rows, dtype=np.int64)
    out = np.empty((len(index),) + values.shape[1:], values.dtype)
    if not len(index):
        return out
    view = memoryview(out.reshape(-1).view(np.uint8))
    # runs of consecutive rows: one read each
    breaks = np.flatnonzero(np.diff(index) != 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(index)]])
    positions = (values.offset + index[starts] * row_bytes).tolist()
    lows, highs = (starts * row_bytes).tolist(), (ends * row_bytes).tolist()
    fd = os.open(values.filename, os.O_RDONLY)
    try:
        done = sum(os.preadv(fd, [view[lo:hi]], position) for lo, hi, position in zip(lows, highs, positions))
    finally:
        os.close(fd)
    if done != out.nbytes:  # a regular file returns every byte asked for unless it shrank
        raise OSError(f"{values.filename}: short read ({done} of {out.nbytes} bytes); was the file changed?")
    return out


def is_lazy(values) -> bool:
    """Whether `values` is read on demand (a memory map or a view of one)."""
    return isinstance(values, np.memmap) or not isinstance(values, np.ndarray)


def release_pages(values, rows: tuple[int, int] | None = None) -> None:
    """Drops the pages a memory map has touched from this process' resident set.

    The data stays in the OS page cache (the file is not re-read from disk);
    only the mapping's pages are unmapped until they are touched again.

    Args:
        values: a memory map (as `np.load(mmap_mode="r")` returns it), a
            `ShardedArray` or `RowView`; anything else is left alone.
        rows: `(start, stop)`: release only those rows' pages (a memory map
            straight from `np.load`); default the whole mapping.
    """
    if hasattr(values, "release") and not isinstance(values, np.ndarray):
        values.release()
        return
    handle = getattr(values, "_mmap", None)
    if handle is None or not hasattr(handle, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        if rows is None or not isinstance(values.offset, int):
            handle.madvise(mmap.MADV_DONTNEED)
            return
        row_bytes = values.strides[0]
        first = values.offset % mmap.ALLOCATIONGRANULARITY + rows[0] * row_bytes  # where np.memmap put the data
        start = first - first % mmap.PAGESIZE
        stop = min(len(handle), first + (rows[1] - rows[0]) * row_bytes)
        if stop > start:
            handle.madvise(mmap.MADV_DONTNEED, start, stop - start)
    except (OSError, ValueError, AttributeError):
        pass  # a closed or odd mapping: nothing to release


def row_chunks(values, max_bytes: int = CHUNK_BYTES):
    """Yields `(first_row, rows)` over `values` in contiguous blocks of about `max_bytes`.

    Lazy arrays are read block by block and their pages released after each,
    so scanning a file bigger than RAM keeps the resident memory flat.
    """
    n = len(values)
    row_bytes = max(1, memory_bytes(values) // max(n, 1))
    step = max(1, max_bytes // row_bytes)
    lazy = is_lazy(values)
    for start in range(0, n, step):
        block = values[start : start + step]
        yield start, np.asarray(block)
        if lazy:
            release_pages(values)
