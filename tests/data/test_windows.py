"""The streamed epoch order (blocks, then windows) and reading a window in few reads."""

import math
import os

import numpy as np
import pytest

from kerascli.data import windows
from kerascli.data.lazy import RowView, ShardedArray


def order(rows, *, seed=1, epoch=0, shuffle=True, block=7, window=640):
    return windows.epoch_plan(rows, seed=seed, epoch=epoch, shuffle=shuffle, block=block, window=window).fed()


def test_an_epoch_order_holds_every_row_once_and_is_seeded():
    first = order(10_003)  # a short last block and a short last window
    assert np.array_equal(np.sort(first), np.arange(10_003))
    assert np.array_equal(first, order(10_003))  # the same seed and epoch: the same order
    assert not np.array_equal(first, order(10_003, epoch=1))
    assert not np.array_equal(first, order(10_003, seed=2))
    assert not np.array_equal(first[:640], np.sort(first[:640]))  # rows are shuffled within a window


def test_batches_mix_rows_from_all_over_a_file_sorted_by_label():
    rows, batch = 40_960, 256
    labels = np.arange(rows) * 4 // rows  # four classes, one after the other
    budget = windows.WINDOW_SHARE_OF_BUDGET * 4096 * 8
    window = windows.window_rows(budget=budget, row_bytes=8, batch_size=batch, rows=rows)
    block = windows.block_rows(8, window)
    assert (window, block) == (4096, 16)  # 256 blocks of 16 rows to a window
    fed = labels[order(rows, block=block, window=window)]
    shares = np.stack([np.bincount(b, minlength=4) / batch for b in fed.reshape(-1, batch)])
    assert np.abs(shares - 0.25).max() < 0.15  # every batch holds every class near its share of the file


def test_a_window_is_a_whole_number_of_batches_within_its_share_of_the_budget():
    share = windows.WINDOW_SHARE_OF_BUDGET
    assert windows.window_rows(budget=share * 2**20, row_bytes=512, batch_size=100, rows=10**6) == 2000
    assert windows.window_rows(budget=2**10, row_bytes=512, batch_size=100, rows=10**6) == 100  # one batch at least
    assert windows.window_rows(budget=2**40, row_bytes=512, batch_size=100, rows=250) == 300  # never past the data
    assert windows.window_rows(budget=2**40, row_bytes=512, batch_size=1000, rows=10**9) * 512 <= 256 * 2**20
    assert windows.block_rows(row_bytes=512, window=2000) == 7  # 256 blocks to a window at least
    assert windows.block_rows(row_bytes=2**20, window=2**20) == 1  # wide rows: a plain permutation


def test_each_window_is_read_in_file_order():
    plan = windows.epoch_plan(10_003, seed=1, epoch=0, shuffle=True, block=7, window=640)
    for number in range(16):
        rows, fed = plan.window_rows(number)
        assert (np.diff(rows) > 0).all() and np.array_equal(np.sort(fed), np.arange(len(rows)))
    assert np.array_equal(order(50, shuffle=False), np.arange(50))
    view = RowView(np.zeros((50, 1)), np.array([40, 3, 17, 0, 8]))  # a split side: rows from all over the file
    assert np.array_equal(windows.file_order(view), [3, 1, 4, 2, 0])


@pytest.fixture
def mapped(tmp_path):
    values = np.lib.format.open_memmap(tmp_path / "v.npy", mode="w+", dtype=np.float64, shape=(5000, 3))
    values[:] = np.arange(15_000, dtype=np.float64).reshape(5000, 3)
    values.flush()
    return np.load(tmp_path / "v.npy", mmap_mode="r")


def test_reading_sorted_rows_with_gaps_and_long_runs_equals_indexing(mapped, monkeypatch):
    monkeypatch.setattr(windows, "MAX_GAP_BYTES", 24 * 5)  # rows 5 apart are read together
    monkeypatch.setattr(windows, "MAX_READ_BYTES", 24 * 64)  # and no read is over 64 rows
    index = np.sort(np.random.default_rng(0).choice(5000, 1500, replace=False))
    index = np.union1d(index, np.arange(1000, 1300))  # a long run, split into several reads
    np.testing.assert_array_equal(windows.read_sorted(mapped, index), mapped[index])
    out = np.full((len(index) + 3, 3), -1.0)
    windows.read_sorted(mapped, index, out[: len(index)])
    np.testing.assert_array_equal(out[: len(index)], mapped[index])
    assert (out[len(index) :] == -1).all()  # nothing written past the rows asked for
    parts = ShardedArray([mapped[:10], mapped[10:2000], mapped[2000:]])
    np.testing.assert_array_equal(windows.read_sorted(parts, index), mapped[index])
    in_ram = np.asarray(mapped)
    np.testing.assert_array_equal(windows.read_sorted(in_ram, index), in_ram[index])


def test_a_window_serves_its_rows_in_feeding_order_as_float32(mapped):
    view = RowView(mapped, np.random.default_rng(3).permutation(5000)[:4000])  # a split side
    plan = windows.epoch_plan(4000, seed=1, epoch=0, shuffle=True, block=8, window=2048)
    ranks, fed = plan.window_rows(0)
    rows = windows.file_order(view)[ranks]
    for values in (view, np.asarray(view)):  # read from the file, or indexed in RAM
        window = windows.Window(values, rows, fed, buffer=np.empty((2048, 3)))
        batch = window.take(100, 164)
        assert batch.dtype == np.float32 and batch.shape == (64, 3)
        np.testing.assert_array_equal(batch, mapped[view.rows[rows[fed[100:164]]]].astype(np.float32))
    shuffled = RowView(mapped, view.rows[::-1])  # rows the plan did not rank: still the right ones
    window = windows.Window(shuffled, rows, fed)
    np.testing.assert_array_equal(window.take(0, 50), mapped[shuffled.rows[rows[fed[:50]]]].astype(np.float32))


def test_an_epoch_takes_about_one_read_per_block_not_one_per_row(mapped, monkeypatch):
    reads = []
    real = os.preadv
    monkeypatch.setattr(
        os, "preadv", lambda fd, buffers, position: reads.append(position) or real(fd, buffers, position)
    )
    window = windows.window_rows(budget=windows.WINDOW_SHARE_OF_BUDGET * 2**16, row_bytes=24, batch_size=32, rows=5000)
    block = windows.block_rows(24, window)
    assert block > 1
    plan = windows.epoch_plan(5000, seed=1, epoch=0, shuffle=True, block=block, window=window)
    for number in range(math.ceil(5000 / window)):
        windows.Window(mapped, *plan.window_rows(number))
    windows_read = math.ceil(5000 / window)
    assert len(reads) <= math.ceil(5000 / block) + windows_read  # a block split by a window's end: one more
    assert len(reads) < 5000 / 4
