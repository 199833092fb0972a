"""Shuffled passes over data in files, read a window of many batches at a time in few system calls.

A batch of rows drawn from a permutation of the whole file costs one read per
row: 3-5 µs each here, so 1024 rows take about as long as an MLP's training
step on them. Streamed data in files is therefore shuffled in two levels, the
way tf.data's interleave + shuffle buffer or WebDataset's shards do it:

1. The rows (in file order) are cut into blocks of consecutive rows, about
   `BLOCK_BYTES` each, and the blocks are put in a seeded random order.
2. That sequence is cut into windows of `window_rows` rows (a whole number of
   batches). The rows of a window are permuted again, and the window's batches
   are cut from that. A window is read at once, in file order: one read per
   run of nearby rows (`Window`, `read_sorted`).

Every row is in exactly one batch per epoch, and the order depends only on the
seed and the epoch (`EpochPlan`). The rows of a block are fed within one
window (two where it straddles a window's end), in random batches of it, and
which blocks share a window changes every epoch. Unshuffled passes are read in
file order, a window at a time.

Keras-free; `kerascli.data.streaming` feeds the batches to Keras.
"""

from __future__ import annotations

import dataclasses
import mmap
import os

import numpy as np

from kerascli.data.dtypes import to_float32
from kerascli.data.lazy import RowView, ShardedArray, whole_file_map

BLOCK_BYTES = 64 * 2**10
# Reading this many unwanted bytes between two wanted rows costs about what one more read does.
MAX_GAP_BYTES = 16 * 2**10
# The most bytes one read takes (rows with gaps go through a scratch buffer of this size).
MAX_READ_BYTES = 8 * 2**20
MAX_WINDOW_BYTES = 256 * 2**20
MIN_BLOCKS_PER_WINDOW = 256  # a window mixes rows from at least this many places in the file
# A window is at most 1/16 of data.memory_budget; two are in memory at once (the one being read, the one served).
WINDOW_SHARE_OF_BUDGET = 16


def reads_cheaply(values) -> bool:
    """Whether `values` costs per read, not per row: in RAM, memory-mapped, shards of those or a view of them.

    Other lazy arrays (decoded image files) are read batch by batch instead,
    in parallel threads, with a plain permutation of all rows.
    """
    if isinstance(values, RowView):
        return reads_cheaply(values.base)
    if isinstance(values, ShardedArray):
        return all(reads_cheaply(part) for part in values.parts)
    return isinstance(values, np.ndarray)


def file_order(values) -> np.ndarray | None:
    """The rows of `values` in the order they sit in its file, or None when that is their own order.

    A split's side is a `RowView` whose rows are a random subset of the file:
    an `EpochPlan` for it ranks them by place in the file, `file_order[rank]`
    is the row.
    """
    return np.argsort(values.rows, kind="stable") if isinstance(values, RowView) else None


def block_rows(row_bytes: int, window: int) -> int:
    """Rows per block: about `BLOCK_BYTES` of rows, and at least `MIN_BLOCKS_PER_WINDOW` blocks to a window.

    Args:
        row_bytes: bytes one row takes as read (all inputs and targets).
        window: rows per window.

    Returns:
        A positive integer; 1 means a plain permutation of all rows.
    """
    return max(1, min(BLOCK_BYTES // max(1, row_bytes), window // MIN_BLOCKS_PER_WINDOW))


def window_rows(budget: int, row_bytes: int, batch_size: int, rows: int) -> int:
    """Rows per window: a whole number of batches, within `budget / WINDOW_SHARE_OF_BUDGET` and `MAX_WINDOW_BYTES`.

    Args:
        budget: `data.memory_budget` in bytes.
        row_bytes: bytes one row takes as read (all inputs and targets).
        batch_size: rows per batch.
        rows: rows in the data (a window never holds more).
    """
    window_bytes = min(MAX_WINDOW_BYTES, budget // WINDOW_SHARE_OF_BUDGET)
    batches = max(1, window_bytes // max(1, row_bytes * batch_size))
    return min(batches * batch_size, -(-rows // batch_size) * batch_size)


@dataclasses.dataclass
class EpochPlan:
    """One epoch's order, window by window: each window's rows in file order, and the order they are fed in.

    Args:
        in_file: the rows, window after window, each window's ascending (its
            place in the file: for a split's side, a rank in `file_order`).
        shuffle: for each window, a permutation of its own positions: its
            rows are fed as `in_file[window][shuffle[window]]`; None: as they are.
        window: rows per window.
    """

    in_file: np.ndarray
    shuffle: np.ndarray | None
    window: int

    def window_rows(self, number: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Window `number`'s rows in file order, and the positions among them it feeds (None: in that order)."""
        part = slice(number * self.window, (number + 1) * self.window)
        return self.in_file[part], None if self.shuffle is None else self.shuffle[part]

    def fed(self) -> np.ndarray:
        """All rows in the order they are fed."""
        if self.shuffle is None:
            return self.in_file
        windows = range(0, len(self.in_file), self.window)
        return np.concatenate([self.in_file[w : w + self.window][self.shuffle[w : w + self.window]] for w in windows])


def epoch_plan(rows: int, *, seed: int, epoch: int, shuffle: bool, block: int, window: int) -> EpochPlan:
    """The rows of one epoch: blocks in a random order, cut into windows, rows permuted within each window.

    Args:
        rows: number of rows.
        seed: the run's seed.
        epoch: the epoch (0-based); `[seed, epoch]` seeds the order.
        shuffle: False: rows in file order.
        block: rows per block (1: every row on its own: a uniform permutation of all rows).
        window: rows per window.

    Returns:
        The plan; its rows are int32 below 2**31 rows (they are as many as the data's).
    """
    index = np.int32 if rows < 2**31 else np.int64
    if not shuffle:
        return EpochPlan(np.arange(rows, dtype=index), None, window)
    rng = np.random.default_rng([seed, epoch])
    blocks = rng.permutation(-(-rows // block)).astype(index)
    in_file = (blocks[:, None] * index(block) + np.arange(block, dtype=index)).reshape(-1)
    if rows % block:  # the last block is short
        in_file = in_file[in_file < rows]
    local = np.empty(rows, index)
    for start in range(0, rows, window):
        part = in_file[start : start + window]
        part.sort(kind="stable")  # in place; runs of consecutive rows sort in about linear time
        local[start : start + len(part)] = rng.permutation(len(part))
    return EpochPlan(in_file, local, window)


class Window:
    """Rows of a window, read in file order; `take` gathers a batch of them.

    Args:
        values: the array (a memory map, shards, a row view or an array in RAM).
        rows: the window's rows, ascending in the file (a row view's rows
            then point to ascending rows of its base).
        fed: the positions among `rows` in the order they are fed, or None: in that order.
        buffer: where to read them (`len(rows)` rows or more of `values`'
            dtype and row shape), or None for a new array. Buffers used over
            again spare the page faults of fresh memory and keep the resident
            memory to the windows in use.
    """

    def __init__(self, values, rows: np.ndarray, fed: np.ndarray | None, buffer: np.ndarray | None = None):
        base, index = (values.base, values.rows[rows]) if isinstance(values, RowView) else (values, rows)
        out = buffer[: len(index)] if buffer is not None else None
        if len(index) > 1 and (np.diff(index) < 0).any():  # rows the plan did not rank: read sorted, put back
            by_file = np.argsort(index, kind="stable")
            got = read_sorted(base, index[by_file])
            out = np.empty_like(got) if out is None else out
            out[by_file] = got
        else:
            out = read_sorted(base, index, out)
        self.values = to_float32(out)
        self.fed = fed

    def take(self, start: int, stop: int) -> np.ndarray:
        """The rows fed at window positions `start:stop`, as a new array (the buffer is used again)."""
        if self.fed is None:
            return self.values[start:stop].copy()
        return self.values[self.fed[start:stop]]


def anonymous(shape: tuple, dtype) -> np.ndarray:
    """A new array in memory of its own (an anonymous mapping), handed back to the system once unreferenced.

    Window-sized buffers from `malloc` would raise glibc's threshold for
    mapping big blocks on their own once freed, and every allocation below it
    then comes from heaps that keep their freed memory: the resident memory
    would grow well past the windows in use.
    """
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    memory = mmap.mmap(-1, max(1, count * dtype.itemsize))
    return np.frombuffer(memory, dtype, count).reshape(shape)


def read_sorted(values, index: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Rows `index` (ascending) of `values`, in few reads.

    A memory map of a whole `.npy` file is read with `os.preadv`, one read per
    run of nearby rows (`MAX_GAP_BYTES` apart at most); shards are read shard by
    shard; anything else is indexed.

    Args:
        values: a memory map, `ShardedArray` or array.
        index: the rows, ascending.
        out: where to put them (`len(index)` rows of `values`' dtype), or None.

    Returns:
        `out`, or a new array.
    """
    if out is None:
        out = np.empty((len(index),) + tuple(values.shape[1:]), values.dtype)
    if isinstance(values, ShardedArray):
        which = np.searchsorted(values.offsets, index, side="right") - 1
        bounds = np.searchsorted(which, np.arange(len(values.parts) + 1))
        for k, part in enumerate(values.parts):
            lo, hi = bounds[k], bounds[k + 1]
            if lo < hi:
                read_sorted(part, index[lo:hi] - values.offsets[k], out[lo:hi])
    elif whole_file_map(values):
        _read_runs(values, index, out)
    else:
        out[:] = values[index]
    return out


def _runs(index: np.ndarray, row_bytes: int) -> tuple[list[int], list[int]]:
    """Where reads start and end in `index`: a new read after a gap over `MAX_GAP_BYTES` or every `MAX_READ_BYTES`."""
    gap_rows = MAX_GAP_BYTES // row_bytes
    span_rows = max(1, MAX_READ_BYTES // row_bytes)
    new = (np.diff(index) > gap_rows + 1) | (np.diff(index // span_rows) != 0)
    breaks = np.flatnonzero(new) + 1
    return [0, *breaks.tolist()], [*breaks.tolist(), len(index)]


def _read_runs(values: np.memmap, index: np.ndarray, out: np.ndarray) -> None:
    row_bytes = values.strides[0]
    if not len(index):
        return
    flat = out.reshape(len(index), -1).view(np.uint8)
    scratch = None
    fd = os.open(values.filename, os.O_RDONLY)
    try:
        for lo, hi in zip(*_runs(index, row_bytes)):
            first, last = int(index[lo]), int(index[hi - 1])
            position = values.offset + first * row_bytes
            if last - first + 1 == hi - lo:  # consecutive rows: straight into place
                _read_exactly(fd, memoryview(flat[lo:hi]).cast("B"), position, values.filename)
                continue
            if scratch is None:
                scratch = anonymous((max(1, MAX_READ_BYTES // row_bytes), row_bytes), np.uint8)  # a run's span
            span = scratch[: last - first + 1]
            _read_exactly(fd, memoryview(span).cast("B"), position, values.filename)
            flat[lo:hi] = span[index[lo:hi] - first]
    finally:
        os.close(fd)


def _read_exactly(fd: int, buffer: memoryview, position: int, filename) -> None:
    if os.preadv(fd, [buffer], position) != len(buffer):  # a regular file returns every byte unless it shrank
        raise OSError(f"{filename}: short read ({len(buffer)} bytes at {position}); was the file changed?")
