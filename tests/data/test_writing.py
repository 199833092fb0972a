"""The predictions writer: CSV cells a spreadsheet would run are prefixed; files get the umask's mode."""

from __future__ import annotations

import csv
import os
import stat

import numpy as np
import pyarrow as pa
import pytest

from kerascli.data.predictions import CATEGORICAL, spreadsheet_safe
from kerascli.data.writing import PredictionWriter

LABELS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "-1", "plain"]


def test_formula_cells_are_prefixed_and_numbers_are_not_touched():
    table = pa.table(
        {
            "label": pa.array(LABELS + ["\tTAB", "+2.5e3"]),
            "p": pa.array([-0.5, 0.1, -3.0, 1.0, -1.0, 0.0, 2.0, 3.0]),
        }
    )
    safe = spreadsheet_safe(table)
    assert safe.column("label").to_pylist() == [
        '\'=HYPERLINK("http://evil","x")',
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1)",
        "-1",  # a plain number is not a formula
        "plain",
        "'\tTAB",
        "+2.5e3",
    ]
    assert safe.column("p").to_pylist() == table.column("p").to_pylist()
    assert safe.schema == table.schema


def test_predictions_csv_written_through_the_writer_is_spreadsheet_safe(tmp_path):
    target = tmp_path / "predictions.csv"
    probabilities = np.eye(len(LABELS), dtype="float32")
    with PredictionWriter(target, {"out": LABELS}, {"out": CATEGORICAL}) as writer:
        writer.write({"out": probabilities})
    rows = list(csv.reader(target.open(newline="")))
    assert rows[0][0] == "label"
    assert [r[0] for r in rows[1:]] == ["'" + v if v[0] in "=+@" or v == "-2+3" else v for v in LABELS]
    assert all(float(r[1 + i]) == (1.0 if i == n else 0.0) for n, r in enumerate(rows[1:]) for i in range(len(LABELS)))


@pytest.mark.parametrize("suffix", [".csv", ".npy", ".parquet"])
def test_predictions_get_the_umask_mode(tmp_path, suffix):
    old = os.umask(0o022)
    try:
        target = tmp_path / f"p{suffix}"
        with PredictionWriter(target, {}, {"out": None}) as writer:
            writer.write({"out": np.zeros((3, 1), dtype="float32")})
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
