"""What `fit`/`evaluate` receive: arrays in memory, or batches streamed from memory maps.

Data that fits the memory budget is handed to Keras as arrays (float64
converted to float32 once). Memory-mapped data bigger than the budget is
streamed through `MemmapBatches`, a `keras.utils.PyDataset`. Data in files is
read a window of many batches at a time, each window in file order with one
`preadv` per run of rows, in Keras' own loop, and shuffled in two levels
(blocks of rows, then the rows of each window: see `kerascli.data.windows`).
A window is at most 1/16 of the budget, its buffer is used again for the
next one and handed back at the epoch's end, so the resident memory stays
flat however big the file is; float64 is converted per window. Other lazy
arrays (decoded image files) are read batch by batch by 4 threads (not
processes: forking a multithreaded JAX deadlocks).

Imports Keras: load it only once the backend is chosen.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from typing import Any

import numpy as np

from kerascli.data import windows
from kerascli.data.arrays import Arrays
from kerascli.data.dtypes import memory_bytes
from kerascli.data.lazy import RowView, read_all, release_pages
from kerascli.data.limits import default_budget
from kerascli.data.strings import to_keras
from kerascli.engine.keras_import import load_keras

keras = load_keras()

RELEASE_EVERY_BYTES = 64 * 2**20
DEFAULT_BATCH_SIZE = 32  # Keras' own default


@dataclasses.dataclass
class Feed:
    """Arguments for `fit`/`evaluate`: `x`, `y` and `batch_size` as Keras takes them.

    Args:
        x: the inputs (array or dict of arrays), or a `MemmapBatches`.
        y: the targets, or None (a dataset yields its own).
        batch_size: for arrays; None for a dataset (Keras ignores it there).
        shuffle: what to pass as `fit(shuffle=)`; a dataset shuffles itself.
    """

    x: Any
    y: Any
    batch_size: int | None
    shuffle: bool | None

    @property
    def streamed(self) -> bool:
        return isinstance(self.x, MemmapBatches)

    @property
    def validation_data(self):
        """What `fit(validation_data=)` takes."""
        return self.x if self.streamed else (self.x, self.y)


class MemmapBatches(keras.utils.PyDataset):
    """Batches of rows gathered from (memory-mapped) arrays, shuffled per epoch with a seed.

    Data in files (or RAM) is read a window of many batches at a time, in
    file order, and shuffled in two levels: blocks of rows, then the rows of
    each window (see `kerascli.data.windows`). Other lazy arrays (decoded
    image files) are read batch by batch in the reader threads, from a
    permutation of all rows.

    Args:
        arrays: the data; its arrays may be memory maps, shards or row views.
        batch_size: rows per batch (the last batch may be smaller).
        shuffle: reshuffle rows every epoch (`[seed, epoch]` seeds the order).
        seed: the run's seed.
        workers: reader threads (None: 1 for windows, read in Keras' loop; 4 for image files). Keras'
            threads hand batches read ahead of an epoch's end to the next epoch, so the rows an epoch
            sees then depend on timing.
        budget: `data.memory_budget` in bytes (None: the default); a window is a small share of it.
    """

    def __init__(
        self,
        arrays: Arrays,
        batch_size: int,
        shuffle: bool,
        seed: int,
        workers: int | None = None,
        budget: int | None = None,
    ):
        everything = (*arrays.x.values(), *arrays.y.values())
        windowed = all(windows.reads_cheaply(v) for v in everything)
        # Windows are read in Keras' own loop (workers=1: no enqueuer): Keras' reader threads would hand
        # batches read ahead before an epoch's end (the first, peeked at to build the model) to the next
        # epoch, as many as were ready by then. Decoded images keep threads: decoding is the work.
        workers = workers or (1 if windowed else 4)
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max(2, 2 * workers))
        self.arrays = arrays
        self.rows = len(arrays)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self._row_bytes = sum(memory_bytes(v) // max(len(v), 1) for v in everything)
        if windowed:
            read_bytes = sum(v.dtype.itemsize * int(np.prod(v.shape[1:], dtype=np.int64)) for v in everything)
            budget = default_budget() if budget is None else int(budget)
            self.window = windows.window_rows(budget, read_bytes, batch_size, self.rows)
            self.block = windows.block_rows(read_bytes, self.window)
            view = next((v for v in everything if isinstance(v, RowView)), None)
            self._in_file_order = windows.file_order(view)
        else:  # decoded per batch, in parallel threads
            self.block, self.window, self._in_file_order = 1, batch_size, None
        self._lock = threading.Lock()
        self._named = {**{("x", k): v for k, v in arrays.x.items()}, **{("y", k): v for k, v in arrays.y.items()}}
        self._windows: dict[int, _Slot] = {}
        self._free: dict[tuple[str, str], list[np.ndarray]] = {k: [] for k in self._named}
        self._unreleased = 0
        self._plan = self._epoch_plan()

    def _epoch_plan(self) -> windows.EpochPlan:
        return windows.epoch_plan(
            self.rows, seed=self.seed, epoch=self.epoch, shuffle=self.shuffle, block=self.block, window=self.window
        )

    def order(self) -> np.ndarray:
        """This epoch's rows in the order they are fed."""
        fed = self._plan.fed()
        return fed if self._in_file_order is None else self._in_file_order[fed]

    def __len__(self) -> int:
        return math.ceil(self.rows / self.batch_size)

    def __getitem__(self, index: int):
        start = index * self.batch_size
        stop = min(start + self.batch_size, self.rows)
        number = start // self.window
        slot = self._slot(number)
        first = number * self.window
        x = {k: slot.data["x", k].take(start - first, stop - first) for k in self.arrays.x}
        y = {k: slot.data["y", k].take(start - first, stop - first) for k in self.arrays.y}
        self._served(number, slot, index)
        x = next(iter(x.values())) if len(x) == 1 else x
        if not y:
            return (x,)
        return x, (next(iter(y.values())) if len(y) == 1 else y)

    def _slot(self, number: int) -> _Slot:
        """Window `number`, read by the first thread that asks for it (the others wait for it)."""
        with self._lock:
            slot = self._windows.get(number)
            reader = slot is None
            if reader:
                slot = self._windows[number] = _Slot()
        if reader:
            try:
                rows, fed = self._plan.window_rows(number)
                if self._in_file_order is not None:
                    rows = self._in_file_order[rows]
                slot.buffers = {k: self._buffer(k, v) for k, v in self._named.items()}
                slot.data = {k: windows.Window(v, rows, fed, slot.buffers[k]) for k, v in self._named.items()}
                self._note_read(len(rows) * self._row_bytes)
            except BaseException as exc:
                slot.error = exc
                raise
            finally:
                slot.ready.set()
        slot.ready.wait()
        if slot.error is not None:
            raise slot.error
        return slot

    def _buffer(self, name: tuple[str, str], values) -> np.ndarray | None:
        """A window's worth of rows to read `values` into: one given back, or a new one."""
        if self.window == self.batch_size:
            return None  # batch by batch: nothing to keep
        with self._lock:
            if self._free[name]:
                return self._free[name].pop()
        return windows.anonymous((self.window,) + tuple(values.shape[1:]), values.dtype)

    def _served(self, number: int, slot: _Slot, index: int) -> None:
        """Forgets window `number` once each of its batches has been handed out."""
        batches = math.ceil(min(self.window, self.rows - number * self.window) / self.batch_size)
        with self._lock:
            slot.served.add(index)
            if len(slot.served) == batches and self._windows.get(number) is slot:
                self._forget(number)

    def _forget(self, number: int) -> None:
        """(holding the lock) Drops window `number` and gives its buffers back."""
        slot = self._windows.pop(number)
        for name, buffer in slot.buffers.items():
            if buffer is not None:
                self._free[name].append(buffer)

    def _note_read(self, nbytes: int) -> None:
        with self._lock:
            self._unreleased += nbytes
            release = self._unreleased >= RELEASE_EVERY_BYTES
            if release:
                self._unreleased = 0
        if release:
            self.release()

    def release(self) -> None:
        """Drops the pages read so far from the resident set (they stay in the page cache)."""
        for values in (*self.arrays.x.values(), *self.arrays.y.values()):
            release_pages(values)

    def on_epoch_end(self) -> None:
        # Keras calls this after the epoch's reader threads have stopped.
        self.epoch += 1
        self._plan = self._epoch_plan()
        with self._lock:
            for number in list(self._windows):
                self._forget(number)
            for free in self._free.values():
                free.clear()  # handed back: the validation data's windows come next
        self.release()


class _Slot:
    """A window being read or read: its `Window`s by array name, once `ready` is set."""

    def __init__(self):
        self.ready = threading.Event()
        self.data: dict[tuple[str, str], windows.Window] = {}  # by ("x" or "y", name)
        self.buffers: dict[tuple[str, str], np.ndarray | None] = {}
        self.error: BaseException | None = None
        self.served: set[int] = set()


def _single(arrays: dict):
    return next(iter(arrays.values())) if len(arrays) == 1 else arrays


def _in_memory(arrays: Arrays, batch_size: int | None, shuffle) -> Feed:
    """Arrays read into RAM: within the budget, a memory map would make every
    shuffled batch a gather through the page cache (~18% slower fit on an MLP)."""
    y = {k: read_all(v) for k, v in arrays.y.items()}
    x = {k: to_keras(read_all(v)) for k, v in arrays.x.items()}  # raw strings as string tensors
    return Feed(_single(x), _single(y) if y else None, batch_size, shuffle)


def head_batch(arrays: Arrays, rows: int = 2) -> tuple:
    """The first `rows` rows as `fit` gets them: `(x, y)`, one array or a dict by name each."""
    feed = _in_memory(arrays.take(np.arange(min(rows, len(arrays)))), None, None)
    return feed.x, feed.y


def _split_in_memory(train: Arrays, validation: Arrays) -> tuple[Arrays, Arrays]:
    """Both sides of a split read into ONE array per name, each side a view of it: no copy per side."""

    def both(a, b):
        if isinstance(a, RowView) and isinstance(b, RowView) and a.base is b.base:
            whole = read_all(RowView(a.base, np.concatenate([a.rows, b.rows])))
            return whole[: len(a)], whole[len(a) :]
        return read_all(a), read_all(b)

    pairs = {
        side: {k: both(train_part[k], validation_part[k]) for k in train_part}
        for side, train_part, validation_part in (("x", train.x, validation.x), ("y", train.y, validation.y))
    }
    return (
        Arrays({k: v[0] for k, v in pairs["x"].items()}, {k: v[0] for k, v in pairs["y"].items()}),
        Arrays({k: v[1] for k, v in pairs["x"].items()}, {k: v[1] for k, v in pairs["y"].items()}),
    )


def fit_feeds(
    train: Arrays,
    validation: Arrays | None,
    *,
    batch_size: int | None,
    validation_batch_size: int | None,
    shuffle: bool | None,
    seed: int,
    budget: int | None,
) -> tuple[Feed, Feed | None]:
    """Feeds for `fit` (and its validation data): in memory if they fit `budget`, streamed otherwise.

    The budget covers the memory-mapped arrays of both sides together: when
    the training data streams, so does the validation data.

    Args:
        train: the training data.
        validation: the validation data, or None.
        batch_size: `fit.batch_size` (None: Keras' default, 32).
        validation_batch_size: `fit.validation_batch_size` (None: `batch_size`).
        shuffle: `fit.shuffle` (None: Keras' default, True).
        seed: the run's seed; streamed data is shuffled with `seed` and the epoch.
        budget: bytes the memory-mapped data may take in RAM (None: a quarter of RAM).

    Returns:
        `(train_feed, validation_feed)`.
    """
    budget = default_budget() if budget is None else int(budget)
    lazy = train.lazy_bytes() + (validation.lazy_bytes() if validation is not None else 0)
    if lazy <= budget:
        if validation is not None and set(train.x) == set(validation.x) and set(train.y) == set(validation.y):
            train, validation = _split_in_memory(train, validation)
        return _in_memory(train, batch_size, shuffle), (
            _in_memory(validation, validation_batch_size or batch_size, None) if validation is not None else None
        )
    size = batch_size or DEFAULT_BATCH_SIZE
    train_feed = Feed(MemmapBatches(train, size, shuffle is not False, seed, budget=budget), None, None, False)
    val_feed = None
    if validation is not None:
        val_batches = MemmapBatches(validation, validation_batch_size or size, False, seed, budget=budget)
        val_feed = Feed(val_batches, None, None, False)
    return train_feed, val_feed


def feed(arrays: Arrays, *, batch_size: int | None, budget: int | None, seed: int = 0) -> Feed:
    """A feed for `evaluate` (no shuffling): in memory if it fits `budget`, streamed otherwise."""
    train_feed, _ = fit_feeds(
        arrays, None, batch_size=batch_size, validation_batch_size=None, shuffle=False, seed=seed, budget=budget
    )
    return train_feed
