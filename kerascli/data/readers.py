"""Reading one source: which file or folder it is, what it holds, and the arrays its selections name.

A source is a table (`.csv`, `.parquet`: `kerascli.data.tables`), NumPy
files (`.npz`, `.npy`, a directory of `.npy` shards:
`kerascli.data.arrayfiles`) or a folder of class subfolders
(`kerascli.data.folders`). Every failure is a `DataError` that names the
file, at the config key that named it; nothing is ever written beside a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from kerascli.config.document import Document, Key
from kerascli.config.spec.data import IMAGE_KEYS, ColumnPattern, Source
from kerascli.config.tables import FILE_SUFFIXES
from kerascli.data import arrayfiles
from kerascli.data.cells import ENCODE_HINT, NUMBERS_HINT, cell_text, first_invalid_text
from kerascli.data.conversion import to_matrix
from kerascli.data.folders import column as folder_column
from kerascli.data.folders import folder_kind, index_folder
from kerascli.data.limits import memory_budget
from kerascli.data.places import Origin
from kerascli.data.selection import resolve, unknown
from kerascli.data.tables import TableFile
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
        self._npz = None
        self.table = None  # a CSV or Parquet file: its TableFile
        if self.kind in (".csv", ".parquet"):
            self.table = TableFile(self.path, head, doc, key + ("path",))
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
        if self.table is not None:
            return self._unique(self.table.names())
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
        if self.table is None:
            return {}
        self.names()  # checked: decodable, unique
        return {field.name: str(field.type) for field in self.table.schema()}

    def selected_names(self, selection, key: Key, targets=()) -> list[str]:
        """The columns (tables) or keys (NPZ) `selection` picks, checked to exist."""
        if self.kind == ".npz":
            if isinstance(selection, str):
                selection = [selection]
            fail = lambda m: self.fail(key, m)  # noqa: E731
            return resolve(selection, self.names(), self.path.name, fail, targets=list(targets), noun="array")
        return self.column_names(selection, key, targets)

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
            return arrayfiles.load_npy(self.path, lambda m: self.fail(key, m), target)
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
        column = self.table.raw_column(name)
        if len(column) == 0:
            self.fail(key, f"{self.path.name} has no rows")
        return column

    def _file(self, name: str, key: Key, target: bool):
        path = self.resolve(name, key)
        kind = _kind(path)
        if kind in (".npy", "dir"):
            return arrayfiles.load_npy(path, lambda m: self.fail(key, m), target)
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

    def _npz_keys(self, selection, key: Key, targets):
        npz = self._open_npz()
        if isinstance(selection, (ColumnPattern, type(None))) or isinstance(selection, list):
            names = resolve(
                selection, list(npz.files), self.path.name, lambda m: self.fail(key, m), targets=targets, noun="array"
            )
        else:
            if selection not in npz.files:
                self.fail(key, unknown(selection, list(npz.files), self.path.name, "array"))
            names = [selection]
        fail = lambda m: self.fail(key, m)  # noqa: E731
        return arrayfiles.npz_arrays(npz, names, self.path.name, memory_budget(self.doc), fail)

    def _open_npz(self):
        if self._npz is None:
            self._npz = arrayfiles.open_npz(self.path, lambda m: self.fail(self.key + ("path",), m))
        return self._npz

    def column_names(self, selection, key: Key, targets=()) -> list[str]:
        """The table columns `selection` picks (checked to exist)."""
        return resolve(selection, self.names(), self.path.name, lambda m: self.fail(key, m), targets=list(targets))

    def columns(self, selection, key: Key, targets, target: bool):
        """Columns of a CSV/Parquet file: a float32 matrix, or one raw column for a target."""
        names = self.column_names(selection, key, targets)
        table = self.table.read_columns(names)
        if table.num_rows == 0:
            self.fail(key, f"{self.path.name} has no rows")
        if target and len(names) == 1:
            return self._target_column(table.column(0), names[0], key)
        return to_matrix(table, names, self.origin(), lambda m: self.fail(key, m), hint=ENCODE_HINT)

    def _target_column(self, column, name: str, key: Key):
        """A target column as NumPy values; text that is not UTF-8 (pyarrow reads it as bytes) is an error."""
        values = column.to_numpy(zero_copy_only=False)
        bad = first_invalid_text(values) if values.dtype == object else None
        if bad is not None:
            place = self.origin().place(bad)
            text = excerpt(cell_text(values[bad]))
            self.fail(
                key, f"{self.path.name}: column '{name}', {place}: {text} is not valid UTF-8: save the file as UTF-8"
            )
        return values

    def origin(self, columns: dict | None = None) -> Origin:
        """Where this file's rows are, for messages: a CSV's lines, or row indices."""
        return Origin(self.path.name, columns or {}, csv_path=self.path if self.kind == ".csv" else None)

    def record_batches(self, names: list[str], rows: int, key: Key, strings: tuple[str, ...] = ()) -> Iterator:
        """The columns `names` as record batches of about `rows` rows, read incrementally (`TableFile`).

        Columns in `strings` are read as text, the others as float64; a cell that is not a number fails at `key`.
        """
        fail_cell = lambda message: self.fail(key, message)  # noqa: E731
        yield from self.table.record_batches(names, rows, strings, NUMBERS_HINT, fail_cell)


def _kind(path: Path) -> str:
    return "dir" if path.is_dir() else path.suffix.lower()


def _names_a_file(name: str, doc: Document, key: Key) -> bool:
    if name.lower().endswith(FILE_SUFFIXES):
        return True
    path = doc.resolve_path(key, name)
    return name.endswith("/") or path.is_dir()
