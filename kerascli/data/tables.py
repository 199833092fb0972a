"""CSV and Parquet files through pyarrow: their schema, their columns whole or as incremental record batches.

Tables are read with pyarrow (`pyarrow.csv`, `pyarrow.parquet`), never parsed
by hand. A CSV's schema comes from its first block (the file is not read
whole to name its columns). pyarrow's fast CSV parse splits blocks at line
breaks and fails on a quoted cell that holds one across a block boundary;
such a file is read again with `newlines_in_values` (slower, so only then). Every failure is one line handed to `fail`: the
file, the line of a bad record (`kerascli.data.cells`), what was wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, NoReturn

from kerascli.config.document import Key
from kerascli.data.cells import read_error
from kerascli.data.conversion import csv_read_options, first_rows
from kerascli.data.limits import arrow_reason
from kerascli.errors import DataError


class TableFile:
    """One `.csv` or `.parquet` file.

    Args:
        path: the file.
        head: read only the first `head` rows (`validate --deep`); None: every row.
        doc: the config document errors point into.
        key: where the file is named in the config (its `path` key).
    """

    def __init__(self, path: Path, head: int | None, doc, key: Key):
        self.path = path
        self.head = head
        self.doc = doc  # not a callback into the Reader: no reference cycle keeps a table alive after use
        self.key = key
        self.csv = path.suffix.lower() == ".csv"
        self._table = None  # a CSV read whole (its first `head` rows), once
        self._schema = None  # the schema, read once
        self._newlines = False  # whether quoted cells hold line breaks (pyarrow's slower parse)

    def fail(self, message: str) -> NoReturn:
        """Raises the `DataError` of a message about the file."""
        raise DataError(self.doc.problem(self.key, message))

    def schema(self):
        """The file's pyarrow schema (a CSV's types as inferred from its first block)."""
        if self._table is not None:
            return self._table.schema
        if self._schema is None:
            import pyarrow.parquet

            try:
                if self.csv:
                    self._schema = self._parsed(lambda parse: _csv_schema(self.path, parse))
                else:
                    self._schema = pyarrow.parquet.read_schema(self.path)
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
                self.failed(exc)
        return self._schema

    def names(self) -> list[str]:
        """The column names, in file order."""
        try:
            return list(self.schema().names)
        except UnicodeDecodeError as exc:
            self.fail(
                f"{self.path.name}: line 1 (the header) is not valid UTF-8 (byte {exc.object[exc.start]:#04x}): "
                "save the file as UTF-8"
            )

    def table(self):
        """A CSV read whole (its first `head` rows), once."""
        if self._table is None:
            import pyarrow.csv

            options = csv_read_options(self.path)

            def read(parse):
                if self.head is None:
                    return pyarrow.csv.read_csv(self.path, read_options=options, parse_options=parse)
                return first_rows(pyarrow.csv.open_csv(self.path, read_options=options, parse_options=parse), self.head)

            try:
                self._table = self._parsed(read)
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
                self.failed(exc)
        return self._table

    def read_columns(self, names: list[str]):
        """A pyarrow table of just `names` (Parquet reads only those columns)."""
        if self.csv:
            return self.table().select(names)
        import pyarrow.parquet

        try:
            if self.head is not None:
                batches = pyarrow.parquet.ParquetFile(self.path).iter_batches(self.head, columns=names)
                return first_rows(batches, self.head)
            return pyarrow.parquet.read_table(self.path, columns=names)
        except Exception as exc:  # noqa: BLE001
            self.failed(exc)

    def raw_column(self, name: str):
        """One column as read: Parquet's own type, a CSV's as text (the way streamed predict reads it)."""
        if not self.csv:
            return self.read_columns([name]).column(0)
        import pyarrow as pa
        import pyarrow.csv

        options = pyarrow.csv.ConvertOptions(include_columns=[name], column_types={name: pa.string()})
        read_options = csv_read_options(self.path)
        try:
            table = self._parsed(
                lambda parse: pyarrow.csv.read_csv(
                    self.path, read_options=read_options, parse_options=parse, convert_options=options
                )
            )
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
            self.failed(exc)
        column = table.column(0)
        return column if self.head is None else column.slice(0, self.head)

    def record_batches(
        self, names: list[str], rows: int, strings: tuple[str, ...], hint: str = "", fail_cell=None
    ) -> Iterator:
        """The columns `names` as pyarrow record batches of about `rows` rows, read incrementally.

        Columns in `strings` (encoded inputs, `keep` columns) are read as text, the others as float64.

        Args:
            names: the columns to read.
            rows: about how many rows a batch holds (Parquet; a CSV's batches are its blocks).
            strings: the columns read as text.
            hint: what to do about a cell that is not a number (in its error message).
            fail_cell: raises the error of a message about one cell (default: `fail`).
        """
        try:
            if not self.csv:
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
            yield from self._csv_batches(options)
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
            self.failed(exc, hint, fail_cell)

    def _parsed(self, read):
        """`read(parse_options)`: with pyarrow's fast parse, then once with quoted line breaks if that fails."""
        import pyarrow as pa
        import pyarrow.csv

        try:
            return read(pyarrow.csv.ParseOptions(newlines_in_values=self._newlines))
        except pa.ArrowInvalid:
            if self._newlines:
                raise
            self._newlines = True  # a real error fails again below, now with the record pyarrow parsed
            return read(pyarrow.csv.ParseOptions(newlines_in_values=True))

    def _csv_batches(self, convert) -> Iterator:
        """A CSV's record batches; on a fast-parse failure, read again with quoted line breaks from that row on."""
        import pyarrow as pa
        import pyarrow.csv

        read_options, done = csv_read_options(self.path), 0
        while True:
            parse = pyarrow.csv.ParseOptions(newlines_in_values=self._newlines)
            skip = done
            try:
                for batch in pyarrow.csv.open_csv(
                    self.path, read_options=read_options, parse_options=parse, convert_options=convert
                ):
                    if skip >= batch.num_rows:
                        skip -= batch.num_rows
                        continue
                    batch, skip = batch.slice(skip), 0
                    done += batch.num_rows
                    yield batch
                return
            except pa.ArrowInvalid:
                if self._newlines:
                    raise
                self._newlines = True

    def failed(self, exc: Exception, hint: str = "", fail_cell=None) -> NoReturn:
        """Fails with one line for what pyarrow raised: the bad record's line when it can be found."""
        found = None
        if self.csv:
            try:
                found = read_error(exc, self.path, self._known_names(), hint)
            except Exception:  # noqa: BLE001 - the scan is best effort: pyarrow's own reason still says it
                found = None
        if found is None:
            self.fail(f"cannot read {self.path.name}: {arrow_reason(exc)}")
        message, about_a_cell = found
        (fail_cell if about_a_cell and fail_cell is not None else self.fail)(message)

    def _known_names(self) -> list[str]:
        """The column names if the first block reads (a bad record there leaves none: none are needed)."""
        try:
            if self._schema is not None:
                return list(self._schema.names)
            import pyarrow.csv

            return list(_csv_schema(self.path, pyarrow.csv.ParseOptions(newlines_in_values=self._newlines)).names)
        except Exception:  # noqa: BLE001 - pyarrow raises several types
            return []


def _csv_schema(path: Path, parse):
    """A CSV's schema, from its first block only."""
    import pyarrow.csv

    reader = pyarrow.csv.open_csv(path, read_options=csv_read_options(path), parse_options=parse)
    schema = reader.schema
    reader.close()
    return schema
