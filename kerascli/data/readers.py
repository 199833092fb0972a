"""Reading one source: CSV and Parquet through pyarrow, `.npz`, `.npy` (memory-mapped), `.npy` shards.

Tables are read with pyarrow (`pyarrow.csv`, `pyarrow.parquet`), never parsed
by hand; `.npy` files are memory-mapped, so nothing is read until rows are
asked for; a directory of `.npy` files is one array split into shards (sorted
by file name). Every failure is a `DataError` that names the file, at the
config key that named it. Files are read safely (`allow_pickle=False`), and
nothing is ever written beside them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import numpy as np

from kerascli.config.document import Document, Key
from kerascli.config.spec.data import IMAGE_KEYS, ColumnPattern, Source
from kerascli.config.tables import FILE_SUFFIXES
from kerascli.data.conversion import csv_read_options, first_rows, to_matrix
from kerascli.data.folders import column as folder_column
from kerascli.data.folders import folder_kind, index_folder
from kerascli.data.lazy import ShardedArray
from kerascli.data.limits import arrow_reason, memory_budget, npz_declared, size_text
from kerascli.data.selection import resolve, unknown
from kerascli.errors import DataError, excerpt


class Reader:
    """Reads columns/keys of one source file, or whole files named by `x`/`y`.

    Args:
        source: the source spec.
        doc: the config document (paths are relative to it; errors point into it).
        key: where the source is in the config, e.g. `("data", "train")`.
        head: read only the first `head` rows (`validate --deep`); None: every row.
    """

    def __init__(self, source: Source, doc: Document, key: Key, head: int | None = None):
        self.doc = doc
        self.key = key
        self.head = head
        self.path = self.resolve(source.path, key + ("path",)) if source.path else None
        self.kind = _kind(self.path) if self.path else None
        self.source = source
        self.folder = None
        self._table = None
        self._npz = None
        self._schema = None  # the CSV's schema, read once from its first block
        if self.kind == "dir" and folder_kind(self.path):
            self.kind = "folder"
            self.folder = index_folder(self.path, folder_kind(self.path))
            if not self.folder.files:
                self.fail(key + ("path",), f"no {self.folder.kind} files in the class folders of {self.path}")
        given = [k for k in IMAGE_KEYS if getattr(source, k) is not None]
        if given and (self.folder is None or self.folder.kind != "image"):
            self.fail(
                key + (given[0],),
                f"'{given[0]}' applies to a folder of images; {source.path or 'this source'} is not one",
            )

    def fail(self, key: Key, message: str):
        raise DataError(self.doc.problem(key, message))

    def resolve(self, name: str, key: Key) -> Path:
        """The path `name` (relative to the config file that wrote it), checked to exist and be readable."""
        path = self.doc.resolve_path(key, name)
        if path.is_dir():
            return path
        if path.suffix.lower() not in FILE_SUFFIXES:
            self.fail(
                key,
                f"unsupported file type '{path.suffix or name}', expected one of: {', '.join(FILE_SUFFIXES)} (or a folder: .npy shards, or class subfolders of images or .txt files)",
            )
        if not path.is_file():
            self.fail(key, f"file not found: {path}")
        return path

    # -- what the file holds -------------------------------------------------

    def names(self) -> list[str]:
        """Column names (tables) or array keys (NPZ); empty for arrays."""
        if self.kind == ".npz":
            return list(self._open_npz().files)
        if self.kind == ".csv":
            return self._unique(list(self._table.column_names if self._table is not None else self._csv_header()))
        if self.kind == ".parquet":
            return self._unique(list(self._parquet_schema().names))
        if self.folder is not None:
            return self.folder.columns
        return []

    def _unique(self, names: list[str]) -> list[str]:
        """`names`, checked to name each column once: a repeated name makes any selection ambiguous."""
        first: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in first:
                self.fail(
                    self.key + ("path",),
                    f"{self.path.name} has two columns named {excerpt(name)} (columns {first[name] + 1} and {i + 1}); "
                    f"column names must be unique",
                )
            first[name] = i
        return names

    def types(self) -> dict[str, str]:
        """Column types as pyarrow names them (`double`, `int64`, `string`); NPZ keys have none here."""
        if self.kind == ".csv":
            schema = self._table.schema if self._table is not None else self._csv_schema()
        elif self.kind == ".parquet":
            schema = self._parquet_schema()
        else:
            return {}
        return {field.name: str(field.type) for field in schema}

    def selected_names(self, selection, key: Key, targets=()) -> list[str]:
        """The columns (tables) or keys (NPZ) `selection` picks, checked to exist."""
        if self.kind == ".npz":
            if isinstance(selection, str):
                selection = [selection]
            fail = lambda m: self.fail(key, m)  # noqa: E731
            return resolve(selection, self.names(), self.path.name, fail, targets=list(targets), noun="array")
        return self.column_names(selection, key, targets)

    def _open_npz(self):
        if self._npz is None:
            try:
                self._npz = np.load(self.path, allow_pickle=False)
            except Exception as exc:  # noqa: BLE001 - any failure means an unreadable file
                self.fail(self.key + ("path",), f"cannot read {self.path.name}: {arrow_reason(exc)}")
        return self._npz

    def _open_csv(self):
        if self._table is None:
            import pyarrow.csv

            try:
                if self.head is None:
                    self._table = pyarrow.csv.read_csv(self.path, read_options=csv_read_options(self.path))
                else:
                    self._table = first_rows(
                        pyarrow.csv.open_csv(self.path, read_options=csv_read_options(self.path)), self.head
                    )
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
                self.fail(self.key + ("path",), f"cannot read {self.path.name}: {arrow_reason(exc)}")
        return self._table

    def _csv_header(self) -> list[str]:
        """The CSV's column names, from its first block only (the file is not read whole)."""
        return list(self._csv_schema().names)

    def _csv_schema(self):
        if self._schema is None:
            import pyarrow.csv

            try:
                reader = pyarrow.csv.open_csv(self.path, read_options=csv_read_options(self.path))
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
                self.fail(self.key + ("path",), f"cannot read {self.path.name}: {arrow_reason(exc)}")
            self._schema = reader.schema
            reader.close()
        return self._schema

    def _parquet_schema(self):
        import pyarrow.parquet

        try:
            return pyarrow.parquet.read_schema(self.path)
        except Exception as exc:  # noqa: BLE001
            self.fail(self.key + ("path",), f"cannot read {self.path.name}: {arrow_reason(exc)}")

    def _read_columns(self, names: list[str]):
        """A pyarrow table of just `names` (Parquet reads only those columns)."""
        if self.kind == ".csv":
            return self._open_csv().select(names)
        import pyarrow.parquet

        try:
            if self.head is not None:
                return first_rows(
                    pyarrow.parquet.ParquetFile(self.path).iter_batches(self.head, columns=names), self.head
                )
            return pyarrow.parquet.read_table(self.path, columns=names)
        except Exception as exc:  # noqa: BLE001
            self.fail(self.key + ("path",), f"cannot read {self.path.name}: {arrow_reason(exc)}")

    # -- arrays --------------------------------------------------------------

    def array(self, selection, key: Key, targets: list[str] = (), target: bool = False):
        """The array that `selection` (column(s), key, pattern or file) names (its first `head` rows)."""
        values = self._array(selection, key, targets, target)
        return values if self.head is None else values[: self.head]

    def _array(self, selection, key: Key, targets: list[str] = (), target: bool = False):
        if isinstance(selection, str) and self.own_file(selection, key):
            return self._file(selection, key, target)
        if self.path is None:
            self.fail(key, "expected a file name (.npy, .npz, .csv or .parquet) when the source has no 'path'")
        if self.folder is not None:
            return self.folder_column(selection, key)
        if self.kind in (".npy", "dir"):
            if selection is not None:
                self.fail(
                    key, f"{self.path.name} is a single array; name its targets as their own file, e.g. y: labels.npy"
                )
            return self.load_npy(self.path, key, target)
        if self.kind == ".npz":
            return self._npz_keys(selection, key, targets)
        return self.columns(selection, key, targets, target)

    def own_file(self, name: str, key: Key) -> bool:
        """Whether selection `name` is a file of its own: a column or key of the source always wins over a
        file or folder of the same name beside the config (a `y/` folder must not hijack the column `y`)."""
        if self.path is None:
            return True
        if self.kind in (".csv", ".parquet", ".npz") and name in self.names():
            return False
        return _names_a_file(name, self.doc, key)

    def folder_column(self, selection, key: Key):
        """A column of a folder source (see `kerascli.data.folders.column`)."""
        return folder_column(self.folder, self.source, selection, lambda message: self.fail(key, message))

    def raw_column(self, name: str, key: Key):
        """One column as read, unconverted: a pyarrow array (tables; CSV as text) or numpy strings (folders)."""
        if self.folder is not None:
            values = self.folder_column(name, key)
            return values if self.head is None else values[: self.head]
        if self.kind not in (".csv", ".parquet"):
            self.fail(
                key,
                f"'{name}' is encoded (data.text/data.categories), which needs a column of a .csv or .parquet file or a folder",
            )
        self.column_names([name], key)
        if self.kind == ".parquet":
            table = self._read_columns([name])
        else:  # as text, the way streamed predict reads it: "1.0" stays "1.0"
            import pyarrow as pa
            import pyarrow.csv

            options = pyarrow.csv.ConvertOptions(include_columns=[name], column_types={name: pa.string()})
            try:
                table = pyarrow.csv.read_csv(
                    self.path, read_options=csv_read_options(self.path), convert_options=options
                )
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
                self.fail(self.key + ("path",), f"cannot read {self.path.name}: {arrow_reason(exc)}")
        if table.num_rows == 0:
            self.fail(key, f"{self.path.name} has no rows")
        return table.column(0) if self.head is None else table.column(0).slice(0, self.head)

    def _file(self, name: str, key: Key, target: bool):
        path = self.resolve(name, key)
        kind = _kind(path)
        if kind in (".npy", "dir"):
            return self.load_npy(path, key, target)
        sub = Reader(Source(path=str(path)), self.doc, key, self.head)
        if kind == ".npz":
            keys = sub.names()
            if len(keys) != 1:
                self.fail(
                    key,
                    f"{path.name} holds {len(keys)} arrays ({', '.join(keys)}); give the source as path: {name} with x/y keys",
                )
            return sub._npz_keys(keys[0], key, ())
        return sub.columns(None, key, (), True)

    def load_npy(self, path: Path, key: Key, target: bool = False):
        """A memory map of `path`, or a `ShardedArray` of the `.npy` files in directory `path`."""
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".npy")
            if not files:
                self.fail(key, f"no .npy files in directory {path}")
            parts = [self._memmap(p, key, target) for p in files]
            for p, part in zip(files[1:], parts[1:]):
                if part.shape[1:] != parts[0].shape[1:] or part.dtype != parts[0].dtype:
                    self.fail(
                        key,
                        f"shard {p.name} of {path.name} holds {part.dtype} rows of shape {list(part.shape[1:])}, "
                        f"but {files[0].name} holds {parts[0].dtype} rows of shape {list(parts[0].shape[1:])}",
                    )
            return parts[0] if len(parts) == 1 else ShardedArray(parts)
        return self._memmap(path, key, target)

    def _memmap(self, path: Path, key: Key, target: bool):
        try:
            values = np.load(path, mmap_mode="r", allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - corrupt headers raise several types
            if "Python objects" in str(exc) or "allow_pickle" in str(exc):
                self.fail(
                    key,
                    f"{path.name} holds Python objects (pickled data), which kerascli never loads; save a numeric array",
                )
            self.fail(key, f"cannot read {path.name} as a .npy array: {exc}")
        if values.ndim == 0:
            self.fail(key, f"{path.name} holds a single value, expected an array with one row per sample")
        if not target and values.dtype.kind not in "biuf":
            self.fail(key, f"{path.name} holds {values.dtype} values, expected numbers")
        return values

    def _npz_keys(self, selection, key: Key, targets) -> np.ndarray:
        npz = self._open_npz()
        if isinstance(selection, (ColumnPattern, type(None))) or isinstance(selection, list):
            names = resolve(
                selection, list(npz.files), self.path.name, lambda m: self.fail(key, m), targets=targets, noun="array"
            )
        else:
            if selection not in npz.files:
                self.fail(key, unknown(selection, list(npz.files), self.path.name, "array"))
            names = [selection]
        arrays = []
        for name in names:
            self._check_npz_size(npz, name, key)
            try:
                arrays.append(npz[name])
            except Exception as exc:  # noqa: BLE001
                if "allow_pickle" in str(exc):
                    self.fail(
                        key,
                        f"array '{name}' of {self.path.name} holds Python objects (pickled data), which kerascli never loads",
                    )
                self.fail(key, f"cannot read array '{name}' of {self.path.name}: {exc}")
        return arrays[0] if len(arrays) == 1 else np.stack(arrays, axis=-1)

    def _check_npz_size(self, npz, name: str, key: Key) -> None:
        """Refuses an `.npz` array whose header declares more than the memory budget, before it is allocated."""
        declared = npz_declared(npz, name)
        budget = memory_budget(self.doc)
        if declared is not None and declared[0] > budget:
            nbytes, shape, dtype = declared
            self.fail(
                key,
                f"array '{name}' of {self.path.name} declares {size_text(nbytes)} ({dtype} of shape {list(shape)}), "
                f"more than the memory budget of {size_text(budget)} (data.memory_budget); an .npz is read whole: "
                f"save a large array as .npy, which is read in pieces",
            )

    def column_names(self, selection, key: Key, targets=()) -> list[str]:
        """The table columns `selection` picks (checked to exist)."""
        return resolve(selection, self.names(), self.path.name, lambda m: self.fail(key, m), targets=list(targets))

    def columns(self, selection, key: Key, targets, target: bool) -> np.ndarray:
        """Columns of a CSV/Parquet file: a float32 matrix, or one raw column for a target."""
        names = self.column_names(selection, key, targets)
        table = self._read_columns(names)
        if table.num_rows == 0:
            self.fail(key, f"{self.path.name} has no rows")
        if target and len(names) == 1:
            return table.column(0).to_numpy(zero_copy_only=False)
        return to_matrix(table, names, self.path.name, lambda m: self.fail(key, m), csv=self.kind == ".csv")

    def record_batches(self, names: list[str], rows: int, key: Key, strings: tuple[str, ...] = ()) -> Iterator:
        """The columns `names` as pyarrow record batches of about `rows` rows, read incrementally.

        Columns in `strings` (encoded inputs, `keep` columns) are read as text, the others as float64.
        """
        rows_read = 0
        try:
            if self.kind == ".parquet":
                import pyarrow.parquet

                yield from pyarrow.parquet.ParquetFile(self.path).iter_batches(batch_size=rows, columns=names)
                return
            import pyarrow as pa
            import pyarrow.csv

            # The incremental reader infers types from the first block only: fix them to float64,
            # so an integer-looking start does not break on a later 2.5.
            options = pyarrow.csv.ConvertOptions(
                include_columns=names, column_types={n: pa.string() if n in strings else pa.float64() for n in names}
            )
            read_options = csv_read_options(self.path)
            for batch in pyarrow.csv.open_csv(self.path, read_options=read_options, convert_options=options):
                rows_read += batch.num_rows
                yield batch
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
            match = re.search(r"In CSV column #(\d+): CSV conversion error to double: invalid value '(.*)'", str(exc))
            columns = self.names()
            if match and int(match.group(1)) < len(columns):
                self.fail(
                    key,
                    f"column '{columns[int(match.group(1))]}' of {self.path.name} is not numeric "
                    f"({excerpt(match.group(2))}, in the rows after row {rows_read + 1})",
                )
            self.fail(self.key + ("path",), f"cannot read {self.path.name}: {arrow_reason(exc)}")


def _kind(path: Path) -> str:
    return "dir" if path.is_dir() else path.suffix.lower()


def names_a_file(name: str, doc: Document, key: Key = ()) -> bool:
    """Whether a selection string names a file of its own rather than a column or key."""
    return _names_a_file(name, doc, key)


def _names_a_file(name: str, doc: Document, key: Key) -> bool:
    if name.lower().endswith(FILE_SUFFIXES):
        return True
    path = doc.resolve_path(key, name)
    return name.endswith("/") or path.is_dir()
