"""Reading the user's table (without Keras) for what a starter config must know: the target, the classes."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from kerascli.errors import DataError

MAX_CLASSES = 1000


@dataclass
class Table:
    """What a template needs to know about a table."""

    columns: list[str]
    target: str
    labels: list = field(default_factory=list)  # distinct target values, sorted
    numeric_target: bool = True
    integer_target: bool = True


def _read_columns(path: Path) -> dict[str, list]:
    """The columns of a CSV (as strings) or Parquet file."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return {name: table.column(name).to_pylist() for name in table.column_names}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise DataError(f"{path}: the file is empty; expected a header row of column names")
    header, body = rows[0], rows[1:]
    return {name: [row[i] for row in body if i < len(row)] for i, name in enumerate(header)}


def inspect_table(path: Path, target: str | None) -> Table:
    """Reads a table's columns and the values of its target column.

    Args:
        path: a `.csv` or `.parquet` file.
        target: the target column; default the last column.

    Raises:
        DataError: unreadable file, unknown target, fewer than two columns.
    """
    try:
        columns = _read_columns(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the table: {exc}") from None
    names = list(columns)
    if len(names) < 2:
        raise DataError(f"{path}: expected a feature column and a target column, found {len(names)} column(s)")
    target = target or names[-1]
    if target not in columns:
        raise DataError(f"{path}: no column '{target}'; columns are: {', '.join(names)}")
    values = [v for v in columns[target] if v not in ("", None)]
    numbers = []
    for v in values:
        try:
            numbers.append(float(v))
        except (TypeError, ValueError):
            numbers = None
            break
    table = Table(columns=names, target=target)
    if numbers is None:
        table.numeric_target = table.integer_target = False
        table.labels = sorted(set(map(str, values)))
    else:
        table.integer_target = all(n.is_integer() for n in numbers)
        table.labels = sorted(set(int(n) for n in numbers)) if table.integer_target else []
    return table


def class_count(table: Table, path: Path) -> int:
    """The number of classes of a classification target."""
    if not table.numeric_target:
        count = len(table.labels)
    elif table.integer_target:
        if table.labels and table.labels[0] < 0:
            raise DataError(f"{path}: class labels in '{table.target}' must be 0, 1, 2, ...; found {table.labels[0]}")
        count = (table.labels[-1] + 1) if table.labels else 0
    else:
        raise DataError(
            f"{path}: the target '{table.target}' holds fractional numbers; "
            "for a numeric target use --template regression"
        )
    if count < 2 or count > MAX_CLASSES:
        raise DataError(f"{path}: the target '{table.target}' has {count} class(es); expected 2 to {MAX_CLASSES}")
    return count
