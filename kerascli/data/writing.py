"""Predictions written chunk by chunk: CSV and Parquet through pyarrow, `.npy` with its header fixed on close.

Every file goes to a temporary file beside its target (`kerascli.atomic`) and
is renamed over it once complete, so an interrupted predict leaves the old
file or none. CSV cells a spreadsheet would run as formulas are prefixed with
`'` (see `predictions.spreadsheet_safe`).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from kerascli.atomic import commit, remove_own_temps, temp_beside
from kerascli.config.tables import PREDICTION_SUFFIXES
from kerascli.data import predictions
from kerascli.errors import DataError, UsageError


class PredictionWriter:
    """Appends predictions chunk by chunk to a temporary file, renamed over `target` on success.

    CSV and Parquet hold, per output, the decoded label and one probability
    column per class for classifiers, one column per unit otherwise (prefixed
    `<output>.` when there are several outputs), the same columns as
    `kerascli.data.predictions.columns`. `.npy` holds the raw predictions: one file,
    or `<stem>.<output>.npy` per output.

    Args:
        target: the predictions file.
        labels: class vocabularies by output name.
        kinds: output name -> "categorical", "binary" or None.
        target_names: the training targets' column names by output, for headers.
    """

    def __init__(self, target: Path, labels: dict, kinds: dict, target_names: dict | None = None):
        self.target = Path(target)
        self.suffix = self.target.suffix.lower()
        if self.suffix not in PREDICTION_SUFFIXES:
            raise UsageError(
                f"--output: unsupported file type '{self.target.suffix}', expected one of: {', '.join(PREDICTION_SUFFIXES)}"
            )
        self.labels = labels
        self.kinds = kinds
        self.target_names = target_names or {}
        self._files: dict[Path, Path] = {}  # final path -> temp path
        self._npy: dict[str, _NpyAppender] = {}
        self._table_writer = None
        self._csv_handle = None

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def _temp(self, final: Path) -> Path:
        self._files[final] = temp_beside(final)
        return self._files[final]

    def write(self, by_output: dict[str, np.ndarray], keep: dict | None = None) -> None:
        """Appends one chunk of predictions (arrays by output name), after the `keep` columns (CSV/Parquet)."""
        if self.suffix == ".npy":
            for name, values in by_output.items():
                if name not in self._npy:
                    final = (
                        self.target if len(by_output) == 1 else self.target.with_name(f"{self.target.stem}.{name}.npy")
                    )
                    self._npy[name] = _NpyAppender(self._temp(final))
                self._npy[name].append(np.asarray(values))
            return
        import pyarrow as pa

        headers, cols = list(keep or {}), [np.asarray(v, dtype=object) for v in (keep or {}).values()]
        more_headers, more_cols = predictions.table(by_output, self.labels, self.kinds, self.target_names)
        headers += more_headers
        cols += more_cols
        table = pa.table({h: pa.array(c.tolist() if c.dtype == object else c) for h, c in zip(headers, cols)})
        if self.suffix == ".csv":
            table = predictions.spreadsheet_safe(table)
        if self._table_writer is None:
            tmp = self._temp(self.target)
            if self.suffix == ".csv":
                import csv

                # pyarrow quotes every header name; the header is written as a csv module would.
                self._csv_handle = open(tmp, "w", newline="", encoding="utf-8")
                csv.writer(self._csv_handle).writerow(table.column_names)
                self._csv_handle.flush()
                self._table_writer = _CsvChunks(self._csv_handle.buffer)
            else:
                import pyarrow.parquet

                self._table_writer = pyarrow.parquet.ParquetWriter(str(tmp), table.schema)
        self._table_writer.write_table(table)

    def close(self) -> None:
        """Finishes every file, fsyncs it and renames it over its target."""
        if self._table_writer is not None:
            self._table_writer.close()
        if self._csv_handle is not None:
            self._csv_handle.close()
        for appender in self._npy.values():
            appender.close()
        if not self._files:
            raise DataError("nothing to predict: the input has no rows")
        for final, tmp in self._files.items():
            commit(tmp, final)
        self._files.clear()

    def abort(self) -> None:
        """Removes the temporary files; the targets are left as they were."""
        try:
            if self._table_writer is not None:
                self._table_writer.close()
            if self._csv_handle is not None:
                self._csv_handle.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away
            pass
        for appender in self._npy.values():
            appender.handle.close()
        for tmp in self._files.values():
            tmp.unlink(missing_ok=True)
        self._files.clear()
        remove_own_temps(self.target)  # one a signal interrupted before it was recorded


class _CsvChunks:
    """Appends tables to an open CSV file (no header), each quoted only if it must be.

    Arrow's "needed" style quotes every string; a chunk whose strings hold no
    `,`, `"` or line break is written unquoted (as a csv module writes it).
    A chunk holding a cell `spreadsheet_safe` prefixed is quoted too (OWASP).
    """

    def __init__(self, handle):
        self.handle = handle

    def write_table(self, table) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv

        plain = all(
            not pc.any(pc.match_substring_regex(table.column(i), "[,\"\r\n]|^'[=+\\-@\t\r]")).as_py()
            for i, field in enumerate(table.schema)
            if pa.types.is_string(field.type)
        )
        options = pyarrow.csv.WriteOptions(include_header=False, quoting_style="none" if plain else "needed")
        pyarrow.csv.write_csv(table, self.handle, write_options=options)

    def close(self) -> None:
        self.handle.flush()


class _NpyAppender:
    """Writes a `.npy` file row block by row block; the header's shape is fixed on close.

    The header is written first with room for any row count (padded, as the
    format allows), so rows are appended sequentially and never held in memory.
    """

    MAGIC = b"\x93NUMPY\x01\x00"

    def __init__(self, path: Path):
        self.path = path
        self.handle = open(path, "wb")
        self.rows = 0
        self.dtype = None
        self.tail = None
        self.header_len = 0

    def _header(self, rows: int) -> bytes:
        descr = np.lib.format.dtype_to_descr(self.dtype)
        text = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {(rows, *self.tail)!r}, }}"
        return text.encode("latin1")

    def append(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values)
        if self.dtype is None:
            self.dtype, self.tail = values.dtype, tuple(values.shape[1:])
            widest = len(self._header(10**18))
            self.header_len = -(-(len(self.MAGIC) + 2 + widest + 1) // 64) * 64
            self.handle.write(b"\0" * self.header_len)
        self.handle.write(values.astype(self.dtype, copy=False).tobytes())
        self.rows += len(values)

    def close(self) -> None:
        text = self._header(self.rows)
        body = self.header_len - len(self.MAGIC) - 2
        self.handle.seek(0)
        self.handle.write(self.MAGIC + struct.pack("<H", body) + text.ljust(body - 1) + b"\n")
        self.handle.close()
