"""Data sources → named NumPy arrays, seeded splits, label vocabularies.

A source is a `.csv`, `.npz` or `.npy` file; `x` and `y` name columns (CSV),
keys (NPZ) or their own files. Arrays come back keyed by model input and output
name, so single- and multi-input models go through the same code. String class
labels are encoded to integers with a vocabulary fitted on the training data
and saved with the run. Files are read safely: `np.load(allow_pickle=False)`.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

import numpy as np

from kerascli.config import Document, Key
from kerascli.errors import DataError
from kerascli.spec.data import Source

FILE_SUFFIXES = (".csv", ".npz", ".npy")
DEFAULT_INPUT = "input"


@dataclasses.dataclass
class Arrays:
    """Inputs and targets keyed by model input / output name.

    Args:
        x: input arrays, one per model input, all with the same row count.
        y: target arrays, one per model output; empty when the source has none.
    """

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.x.values())))

    def take(self, rows: np.ndarray) -> "Arrays":
        """The rows `rows` of every array, in that order."""
        return Arrays({k: v[rows] for k, v in self.x.items()}, {k: v[rows] for k, v in self.y.items()})


class Labels(dict):
    """Class vocabularies by output name: `{"species": ["setosa", ...]}`."""


def load(
    source: Source,
    doc: Document,
    key: Key,
    *,
    input_names: list[str] | None,
    output_names: list[str],
    labels: Labels,
    fit_labels: bool = False,
    need_y: bool = True,
    targets: bool = True,
) -> Arrays:
    """Loads one source.

    Args:
        source: the `data.<role>` spec.
        doc: the config document (for paths and error locations).
        key: where the source is in the config, e.g. `("data", "train")`.
        input_names: the model's input names, or None to name a single input
            `input` (the shapes are then inferred from the data).
        output_names: the model's output node names.
        labels: vocabularies by output name; updated when `fit_labels`.
        fit_labels: learn vocabularies of string targets (training data only).
        need_y: whether targets are required.
        targets: whether to load targets at all (`predict` does not); the
            target columns are still left out of the default inputs.

    Returns:
        The `Arrays`.

    Raises:
        DataError: a missing or unreadable file, an unknown column or key,
            non-numeric inputs, NaN/inf values, mismatched row counts, labels
            unseen in training.
    """
    reader = _Reader(source, doc, key)
    x_sel = source.x
    y_sel = source.y
    if reader.kind == ".npz":
        x_sel = "x" if x_sel is None else x_sel
        y_sel = ("y" if "y" in reader.keys() else None) if y_sel is None else y_sel
    y_names = _flatten(y_sel)
    y: dict[str, np.ndarray] = {}
    if not targets:
        y_sel = None
        need_y = False
    if isinstance(y_sel, dict):
        for name, sel in y_sel.items():
            if name not in output_names:
                hint = difflib.get_close_matches(name, output_names, n=1)
                raise DataError(doc.problem(key + ("y", name), f"'{name}' is not a model output; outputs are: {', '.join(output_names)}" + (f" (did you mean '{hint[0]}'?)" if hint else "")).render())
            y[name] = reader.array(sel, key + ("y", name), target=True)
    elif y_sel is not None:
        if len(output_names) > 1:
            raise DataError(doc.problem(key + ("y",), f"the model has {len(output_names)} outputs ({', '.join(output_names)}); give 'y' as a mapping from output name to columns").render())
        y[output_names[0]] = reader.array(y_sel, key + ("y",), target=True)
    elif need_y:
        raise DataError(doc.problem(key, "no targets: set 'y' to the target column, key or file").render())
    if isinstance(x_sel, dict):
        x = {name: reader.array(sel, key + ("x", name)) for name, sel in x_sel.items()}
    else:
        name = input_names[0] if input_names and len(input_names) == 1 else DEFAULT_INPUT
        if input_names and len(input_names) > 1:
            raise DataError(doc.problem(key + ("x",), f"the model has {len(input_names)} inputs ({', '.join(input_names)}); give 'x' as a mapping from input name to columns").render())
        x = {name: reader.array(x_sel, key + ("x",), exclude=y_names)}
    for name, values in list(y.items()):
        y[name] = _encode(values, name, labels, fit_labels, doc, key + ("y",))
    arrays = Arrays(x, y)
    _check_rows(arrays, doc, key)
    return arrays


def split(arrays: Arrays, fraction: float, seed: int, doc: Document, key: Key) -> tuple[Arrays, Arrays]:
    """Shuffles rows with `seed` and holds out the first `floor(n * fraction)`.

    This is the usual recipe (permute, take the first part as validation),
    not Keras' `validation_split`, which takes the last rows unshuffled.

    Returns:
        `(train, validation)`.
    """
    n = len(arrays)
    n_val = int(fraction * n)
    if n_val == 0 or n_val == n:
        side = "validation" if n_val == 0 else "training"
        raise DataError(doc.problem(key, f"a split of {fraction} of {n} rows leaves the {side} set empty").render())
    order = np.random.default_rng(seed).permutation(n)
    return arrays.take(order[n_val:]), arrays.take(order[:n_val])


def _flatten(selection) -> list[str]:
    if selection is None:
        return []
    if isinstance(selection, str):
        return [selection]
    if isinstance(selection, list):
        return list(selection)
    return [c for v in selection.values() for c in _flatten(v)]


class _Reader:
    """Reads columns/keys of one source file, or whole files named by x/y."""

    def __init__(self, source: Source, doc: Document, key: Key):
        self.doc = doc
        self.key = key
        self.path = self._resolve(source.path, key + ("path",)) if source.path else None
        self.kind = self.path.suffix.lower() if self.path else None
        self._table = None
        self._npz = None

    def _resolve(self, name: str, key: Key) -> Path:
        path = Path(name)
        if not path.is_absolute():
            path = self.doc.base_dir / path
        if path.suffix.lower() not in FILE_SUFFIXES:
            self.fail(key, f"unsupported file type '{path.suffix or name}', expected one of: {', '.join(FILE_SUFFIXES)}")
        if not path.is_file():
            self.fail(key, f"file not found: {path}")
        return path

    def fail(self, key: Key, message: str):
        raise DataError(self.doc.problem(key, message).render())

    def keys(self) -> list[str]:
        if self.kind == ".npz":
            return list(self._open_npz().keys())
        if self.kind == ".csv":
            return list(self._open_csv().column_names)
        return []

    def _open_npz(self):
        if self._npz is None:
            try:
                self._npz = np.load(self.path, allow_pickle=False)
            except Exception as exc:  # noqa: BLE001 - any failure means an unreadable file
                self.fail(self.key + ("path",), f"cannot read {self.path.name}: {exc}")
        return self._npz

    def _open_csv(self):
        if self._table is None:
            import pyarrow.csv

            try:
                self._table = pyarrow.csv.read_csv(self.path)
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
                self.fail(self.key + ("path",), f"cannot read {self.path.name}: {exc}")
        return self._table

    def array(self, selection, key: Key, exclude: list[str] = (), target: bool = False) -> np.ndarray:
        """The array that `selection` (column(s), key or file) names."""
        if isinstance(selection, str) and (self.path is None or selection.lower().endswith(FILE_SUFFIXES)):
            return self._file(selection, key)
        if self.path is None:
            self.fail(key, "expected a file name (.npy, .npz or .csv) when the source has no 'path'")
        if self.kind == ".npy":
            if selection is not None:
                self.fail(key, f"{self.path.name} is a single array; name its targets as their own file, e.g. y: labels.npy")
            return self._load_npy(self.path, key)
        if self.kind == ".npz":
            return self._npz_key(selection, key)
        return self._columns(selection, key, exclude, target)

    def _file(self, name: str, key: Key) -> np.ndarray:
        path = self._resolve(name, key)
        if path.suffix.lower() == ".npy":
            return self._load_npy(path, key)
        sub = _Reader(Source(path=str(path)), self.doc, key)
        if sub.kind == ".npz":
            keys = sub.keys()
            if len(keys) != 1:
                self.fail(key, f"{path.name} holds {len(keys)} arrays ({', '.join(keys)}); give the source as path: {name} with x/y keys")
            return sub._npz_key(keys[0], key)
        return sub._columns(None, key, (), True)

    def _load_npy(self, path: Path, key: Key) -> np.ndarray:
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - corrupt headers raise several types
            self.fail(key, f"cannot read {path.name} as a .npy array: {exc}")

    def _npz_key(self, selection, key: Key) -> np.ndarray:
        npz = self._open_npz()
        names = [selection] if isinstance(selection, str) else list(selection)
        arrays = []
        for name in names:
            if name not in npz.files:
                hint = difflib.get_close_matches(name, npz.files, n=1)
                self.fail(key, f"no array '{name}' in {self.path.name}; it holds: {', '.join(npz.files)}" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
            try:
                arrays.append(npz[name])
            except Exception as exc:  # noqa: BLE001
                self.fail(key, f"cannot read array '{name}' of {self.path.name}: {exc}")
        return arrays[0] if len(arrays) == 1 else np.stack(arrays, axis=-1)

    def _columns(self, selection, key: Key, exclude, target: bool) -> np.ndarray:
        table = self._open_csv()
        if table.num_rows == 0:
            self.fail(key, f"{self.path.name} has no rows")
        available = list(table.column_names)
        if selection is None:
            names = [c for c in available if c not in exclude]
            if not names:
                self.fail(key, f"no input columns left in {self.path.name} after removing the targets")
        else:
            names = [selection] if isinstance(selection, str) else list(selection)
        for name in names:
            if name not in available:
                hint = difflib.get_close_matches(name, available, n=1)
                self.fail(key, f"no column '{name}' in {self.path.name}" + (f" (did you mean '{hint[0]}'?)" if hint else f"; columns are: {', '.join(available)}"))
        columns = [table.column(n).to_numpy(zero_copy_only=False) for n in names]
        if target and len(columns) == 1:
            return columns[0]
        for name, column in zip(names, columns):
            if not np.issubdtype(column.dtype, np.number) and column.dtype != bool:
                bad = _first_non_numeric(column)
                self.fail(key, f"column '{name}' of {self.path.name} is not numeric (row {bad + 2}: {column[bad]!r})")
        return np.stack([c.astype(np.float32) for c in columns], axis=1)


def _first_non_numeric(column: np.ndarray) -> int:
    for i, value in enumerate(column):
        try:
            float(value)
        except (TypeError, ValueError):
            return i
    return 0


def _encode(values: np.ndarray, name: str, labels: Labels, fit: bool, doc: Document, key: Key) -> np.ndarray:
    """Encodes string class labels to integers with the output's vocabulary."""
    is_text = values.dtype.kind in "USO"
    if not is_text and name not in labels:
        return values
    values = np.asarray(values).astype(str)
    if fit and name not in labels:
        labels[name] = sorted(set(values.tolist()))
    vocab = labels.get(name)
    if vocab is None:
        raise DataError(doc.problem(key, f"targets of '{name}' are strings but the run has no vocabulary for them").render())
    index = {label: i for i, label in enumerate(vocab)}
    unknown = sorted(set(values.tolist()) - set(index))
    if unknown:
        raise DataError(doc.problem(key, f"label(s) {', '.join(map(repr, unknown[:5]))} of '{name}' were not seen in training; known: {', '.join(vocab)}").render())
    return np.array([index[v] for v in values.tolist()], dtype=np.int32)


def _check_rows(arrays: Arrays, doc: Document, key: Key) -> None:
    counts = {f"x.{k}": len(v) for k, v in arrays.x.items()}
    counts.update({f"y.{k}": len(v) for k, v in arrays.y.items()})
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{k}: {v}" for k, v in counts.items())
        raise DataError(doc.problem(key, f"inputs and targets have different row counts ({detail})").render())
    if not counts or next(iter(counts.values())) == 0:
        raise DataError(doc.problem(key, "the data has no rows").render())
    for kind, group in (("x", arrays.x), ("y", arrays.y)):
        for name, values in group.items():
            if np.issubdtype(values.dtype, np.floating) and values.size and values.size <= 50_000_000:
                bad = ~np.isfinite(values)
                if bad.any():
                    rows = np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))
                    raise DataError(doc.problem(key + (kind,), f"{len(rows)} row(s) of '{name}' hold NaN or inf (first: row {rows[0]})").render())


def as_float32(x: dict[str, np.ndarray]) -> dict[str, Any]:
    """Inputs as float32 where they are floating point (Keras' default dtype)."""
    return {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in x.items()}
