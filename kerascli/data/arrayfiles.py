"""NumPy files: `.npy` memory-mapped (a directory of them as shards of one array), `.npz` arrays read whole.

Files are read safely (`allow_pickle=False`): a file of Python objects is
refused, never unpickled. A `.npy` is memory-mapped, so nothing is read
until rows are asked for; a directory of `.npy` files is one array split into
shards (sorted by file name). An `.npz` is compressed and read whole, so
each array's declared size is checked against the memory budget first.
Every failure is one line handed to `fail` (which raises).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NoReturn

import numpy as np

from kerascli.data.lazy import ShardedArray
from kerascli.data.limits import arrow_reason, npz_declared, size_text

Fail = Callable[[str], NoReturn]


def load_npy(path: Path, fail: Fail, target: bool = False):
    """A memory map of `path`, or a `ShardedArray` of the `.npy` files in directory `path`.

    Args:
        path: a `.npy` file or a directory of them.
        fail: raises the error of a message.
        target: whether the array is a target (which may hold strings).
    """
    if not path.is_dir():
        return memmap(path, fail, target)
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".npy")
    if not files:
        fail(f"no .npy files in directory {path}")
    parts = [memmap(p, fail, target) for p in files]
    for p, part in zip(files[1:], parts[1:]):
        if part.shape[1:] != parts[0].shape[1:] or part.dtype != parts[0].dtype:
            fail(
                f"shard {p.name} of {path.name} holds {part.dtype} rows of shape {list(part.shape[1:])}, "
                f"but {files[0].name} holds {parts[0].dtype} rows of shape {list(parts[0].shape[1:])}"
            )
    return parts[0] if len(parts) == 1 else ShardedArray(parts)


def memmap(path: Path, fail: Fail, target: bool = False) -> np.ndarray:
    """A read-only memory map of one `.npy` file, checked to hold one row per sample (numbers, for inputs)."""
    try:
        values = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - corrupt headers raise several types
        if "Python objects" in str(exc) or "allow_pickle" in str(exc):
            fail(f"{path.name} holds Python objects (pickled data), which kerascli never loads; save a numeric array")
        fail(f"cannot read {path.name} as a .npy array: {exc}")
    if values.ndim == 0:
        fail(f"{path.name} holds a single value, expected an array with one row per sample")
    if not target and values.dtype.kind not in "biuf":
        fail(f"{path.name} holds {values.dtype} values, expected numbers")
    return values


def open_npz(path: Path, fail: Fail):
    """An open `.npz` (its arrays are read on demand, each whole)."""
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any failure means an unreadable file
        fail(f"cannot read {path.name}: {arrow_reason(exc)}")


def npz_arrays(npz, names: list[str], file: str, budget: int, fail: Fail) -> np.ndarray:
    """Arrays `names` of an open `.npz`: one as it is, several stacked along a new last axis.

    Args:
        npz: the open file.
        names: the keys to read.
        file: the file's name, for messages.
        budget: the most bytes one array may declare (`data.memory_budget`).
        fail: raises the error of a message.
    """
    arrays = []
    for name in names:
        _check_size(npz, name, file, budget, fail)
        try:
            arrays.append(npz[name])
        except Exception as exc:  # noqa: BLE001
            if "allow_pickle" in str(exc):
                fail(f"array '{name}' of {file} holds Python objects (pickled data), which kerascli never loads")
            fail(f"cannot read array '{name}' of {file}: {exc}")
    return arrays[0] if len(arrays) == 1 else np.stack(arrays, axis=-1)


def _check_size(npz, name: str, file: str, budget: int, fail: Fail) -> None:
    """Refuses an `.npz` array whose header declares more than the memory budget, before it is allocated."""
    declared = npz_declared(npz, name)
    if declared is not None and declared[0] > budget:
        nbytes, shape, dtype = declared
        fail(
            f"array '{name}' of {file} declares {size_text(nbytes)} ({dtype} of shape {list(shape)}), "
            f"more than the memory budget of {size_text(budget)} (data.memory_budget); an .npz is read whole: "
            f"save a large array as .npy, which is read in pieces"
        )
