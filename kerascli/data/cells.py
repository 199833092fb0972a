"""What is wrong with a cell or a record of a data file, said in one line that names the file's own line.

pyarrow's CSV errors name no line (`In CSV column #1: CSV conversion error
to double: invalid value 'abc'`, `CSV parse error: Expected 3 columns, got
4: ...`, the offending record quoted over several lines). `read_error` turns
them into one line: the file, the column, the line where the record starts
(found by `kerascli.data.places`, only once an error is reported), what was
wrong and what was expected.
"""

from __future__ import annotations

import re
from pathlib import Path

from kerascli.data.places import Record, csv_records
from kerascli.errors import excerpt

ENCODE_HINT = "to use it, encode it: data.categories: {{{name}: {{}}}} for categories, or data.text: {{{name}: {{}}}} for free text"
"""What a training column of text can become (`{name}`: the column)."""
NUMBERS_HINT = "the model reads this column as numbers"
"""What a predict input's column must hold: what the model was trained on."""

_CONVERSION = re.compile(
    r"In CSV column #(\d+): CSV conversion error to (\w+): (invalid value '(.*)'|invalid UTF8 data)", re.DOTALL
)
_FIELDS = re.compile(r"CSV parse error: Expected (\d+) columns, got (\d+)")


def null_cells() -> frozenset[str]:
    """The cells pyarrow reads as a missing value (NaN): `""`, `NA`, `null`, `NaN`, ..."""
    import pyarrow.csv

    return frozenset(pyarrow.csv.ConvertOptions().null_values)


def is_number(cell) -> bool:
    """Whether a cell reads as a number (or as missing) the way pyarrow reads a CSV."""
    if cell is None:
        return True
    if isinstance(cell, bytes):  # a column pyarrow read as binary: some cell is not valid UTF-8
        try:
            cell = cell.decode("utf-8")
        except UnicodeDecodeError:
            return False
    text = str(cell).strip(" \t")  # pyarrow trims blanks around a number, not line breaks
    if any(c in text for c in "\r\n\v\f"):
        return False  # float() would take "3\n"
    if text in null_cells():
        return True
    if "_" in text:
        return False  # Python's float() takes 1_000, pyarrow does not
    try:
        float(text)
    except ValueError:
        return False
    return True


def cell_text(cell) -> str:
    """A cell as a message quotes it: invalid UTF-8 bytes shown as `\\xff`."""
    if isinstance(cell, bytes):
        return cell.decode("utf-8", errors="backslashreplace")
    return str(cell)


def cell_hint(cell) -> str:
    """Why a cell may not read as expected: bytes that are not UTF-8."""
    if isinstance(cell, bytes) or "\ufffd" in cell_text(cell):
        return " (the file is not valid UTF-8 there: save it as UTF-8)"
    return ""


def not_a_number(file: str, column: str, place: str, cell, hint: str = "") -> str:
    """`d.csv: column 'b', line 3: 'abc' is not a number; <hint>`."""
    more = f"; {hint}" if hint else ""
    return f"{file}: column '{column}', {place}: {excerpt(cell_text(cell))} is not a number{cell_hint(cell)}{more}"


def read_error(exc: Exception, path: Path, names: list[str], hint: str = "") -> tuple[str, bool] | None:
    """One line for a pyarrow error reading CSV file `path`, naming the line of the record; None if unknown.

    Args:
        exc: what pyarrow raised.
        path: the CSV file.
        names: its column names, in file order.
        hint: what to do about a cell that is not a number (after `; `).

    Returns:
        `(message, about_a_cell)`: whether it is about a cell of a column
        (else about a record of the file), or None when the error is of another kind.
    """
    text = str(exc)
    conversion = _CONVERSION.search(text)
    if conversion and int(conversion.group(1)) < len(names):
        return _conversion_error(path, names, conversion, hint)
    fields = _FIELDS.search(text)
    if fields:
        return _fields_error(path, int(fields.group(1)))
    return None


def _conversion_error(path: Path, names: list[str], conversion: re.Match, hint: str) -> tuple[str, bool] | None:
    """A cell pyarrow could not convert to its column's type (a number, or text that is not UTF-8)."""
    index, kind, value = int(conversion.group(1)), conversion.group(2), conversion.group(4)
    if value is None:  # invalid UTF-8 in a text column

        def bad(cell):
            return "\ufffd" in cell
    else:

        def bad(cell):
            return cell == value or cell.strip(" \t") == value  # pyarrow quotes a number's cell trimmed

    record = _first_record(path, lambda r: index < len(r.cells) and bad(r.cells[index]))
    if record is None and kind == "double":  # pyarrow decoded the value otherwise: the first non-number
        record = _first_record(path, lambda r: index < len(r.cells) and not is_number(r.cells[index]))
    if record is None:
        return None
    cell, place = record.cells[index], f"line {record.line}"
    if kind == "double":
        return not_a_number(path.name, names[index], place, cell, hint), True
    return f"{path.name}: column '{names[index]}', {place}: {excerpt(cell)} is not valid text{cell_hint(cell)}", True


def _fields_error(path: Path, expected: int) -> tuple[str, bool] | None:
    """A record with more or fewer fields than the header has."""
    record = _first_record(path, lambda r: len(r.cells) != expected)
    if record is None:
        return None
    count = len(record.cells)
    message = (
        f"{path.name}: line {record.line}: {count} field{'s' if count != 1 else ''}, expected {expected} "
        f"as in the header ({excerpt(','.join(record.cells))}){_quote_hint(record)}"
    )
    return message, False


def first_invalid_text(values) -> int | None:
    """The index of the first cell of a column pyarrow read as binary that is not valid UTF-8; None if none."""
    for i, value in enumerate(values):
        if isinstance(value, bytes):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return i
    return None


def _quote_hint(record: Record) -> str:
    if record.last_line > record.line:
        return f"; a quoted cell runs from line {record.line} to line {record.last_line}: is a closing quote missing?"
    return ""


def _first_record(path: Path, bad) -> Record | None:
    for record in csv_records(path):
        if bad(record):
            return record
    return None
