"""Where a row is in its file, as data errors name it: a CSV's own line, or a row index (arrays, Parquet).

A CSV record is not always one line of the file: a quoted cell may hold line
breaks, and empty lines hold no record (pyarrow skips them). Counting records
would then name the wrong line, so the line of record `i` is found by
scanning the file with Python's `csv` module up to that record, which counts
the file's own lines as it parses. The scan runs only when an error is
reported, never on the happy path.
"""

from __future__ import annotations

import csv
import dataclasses
import sys
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np


class Record(NamedTuple):
    """One data record of a CSV file.

    Args:
        row: its 0-based index as pyarrow reads it (the header is no row, empty lines are skipped).
        line: the 1-based line of the file where it starts (the header is line 1).
        last_line: the line where it ends (later than `line` when a quoted cell holds line breaks).
        cells: its cells, as text (bytes that are not UTF-8 read as U+FFFD).
    """

    row: int
    line: int
    last_line: int
    cells: list[str]


def csv_records(path: Path) -> Iterator[Record]:
    """Yields the data records of a CSV file, in order, each with the lines it spans."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # a long cell must not stop the scan
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle)
            row, consumed = -1, 0  # -1: the header is the first record
            for cells in reader:
                start, consumed = consumed + 1, reader.line_num
                if not cells:
                    continue  # an empty line: no record
                if row >= 0:
                    yield Record(row, start, consumed, cells)
                row += 1
    finally:
        csv.field_size_limit(limit)


def csv_line(path: Path, row: int) -> int:
    """The line of the file (1-based, the header is line 1) where data row `row` (0-based) starts.

    Returns:
        The line; `row + 2` (one line per record) if the file ends before that row.
    """
    plain = _plain_line(path, row)
    if plain is not None:
        return plain
    for record in csv_records(path):
        if record.row == row:
            return record.line
    return row + 2


def _plain_line(path: Path, row: int, block_bytes: int = 1 << 20) -> int | None:
    """`row + 2` when every line before data row `row` is one record (no quote, no empty line, no lone CR).

    A byte scan (no parsing) of the file up to that row: most files have no
    quoted line breaks, and their lines are found without the `csv` module.

    Returns:
        The line, or None when the prefix holds anything that may make a record span lines or none.
    """
    breaks_needed = row + 1  # the header's line break and one per earlier row
    seen, previous = 0, b"\n"  # a file that starts with a line break starts with an empty line
    with open(path, "rb") as handle:
        while seen < breaks_needed:
            block = handle.read(block_bytes)
            if not block:
                return None
            count = block.count(b"\n")
            if seen + count >= breaks_needed:  # cut the block after the last line break before the row
                positions = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
                cut = int(positions[breaks_needed - seen - 1]) + 1
                after = block[cut : cut + 1] or handle.read(1)
                if after in (b"\n", b"\r"):
                    return None  # empty lines before the row: records are not lines
                block, count = block[:cut], breaks_needed - seen
            joined = previous + block
            if b'"' in block or b"\n\n" in joined or b"\n\r\n" in joined or block.count(b"\r") != block.count(b"\r\n"):
                return None
            seen, previous = seen + count, block[-2:]
    return row + 2


@dataclasses.dataclass
class Origin:
    """Where a source's rows come from, so that data errors name the file's own line or row.

    Args:
        file: the file's name, as messages show it.
        columns: the column (or key) names of each input and target array, by name.
        rows: the file row of each row, once a split has reordered them; None: row i is row i.
        csv_path: the CSV file the rows are records of (lines are named); None: rows are named (arrays, Parquet).
    """

    file: str
    columns: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    rows: np.ndarray | None = None
    csv_path: Path | None = None

    @property
    def csv(self) -> bool:
        """Whether rows are records of a CSV file, whose empty cells read as NaN."""
        return self.csv_path is not None

    def place(self, row: int) -> str:
        """`line 12` (CSV: the line where the record starts) or `row 10` (0-based, as NumPy indexes it)."""
        row = int(self.rows[row]) if self.rows is not None else int(row)
        return f"line {csv_line(self.csv_path, row)}" if self.csv else f"row {row}"

    def take(self, rows: np.ndarray) -> Origin:
        """The origin of `Arrays.take(rows)`."""
        mapped = self.rows[rows] if self.rows is not None else np.asarray(rows)
        return dataclasses.replace(self, rows=mapped)
