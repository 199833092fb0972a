"""What a data file may make kerascli allocate or echo: `.npz` bombs, file content in messages."""

from __future__ import annotations

import io
import os
import tracemalloc
import zipfile

import numpy as np
import pytest

from kerascli import config, data
from kerascli.config.spec import Source
from kerascli.data.limits import arrow_reason
from kerascli.errors import DataError


def load(tmp_path, source: dict, budget: str | None = None):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  train: {path: d.csv}\n" + (f"  memory_budget: {budget}\n" if budget else ""))
    return data.load(
        Source(**source),
        config.load(path),
        ("data", "train"),
        input_names=None,
        output_names=["out"],
        labels=data.Labels(),
    )


def zip_bomb(path, rows: int, zeros: int) -> None:
    """An `.npz` whose `x.npy` header declares `rows` x 64 float32 values, followed by `zeros` zero bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (rows, 64)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("x.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            member.write(bytes(zeros))
        y = io.BytesIO()
        np.save(y, np.zeros(4, dtype="int8"))
        archive.writestr("y.npy", y.getvalue())


def test_an_npz_bomb_is_refused_from_its_header_before_anything_is_allocated(tmp_path):
    zip_bomb(tmp_path / "bomb.npz", rows=2**22, zeros=2**20)  # declares 1 GiB; the file is a few KB
    assert os.path.getsize(tmp_path / "bomb.npz") < 64 * 2**10
    tracemalloc.start()
    with pytest.raises(DataError) as caught:
        load(tmp_path, {"path": "bomb.npz", "x": "x", "y": "y"}, budget="64MB")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (
        "array 'x' of bomb.npz declares 1.0 GiB (float32 of shape [4194304, 64]), more than the memory budget"
        in str(caught.value)
    )
    assert peak < 16 * 2**20


def test_an_npz_within_the_budget_loads(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.ones((4, 3), dtype="float32"), y=np.arange(4))
    assert load(tmp_path, {"path": "d.npz", "x": "x", "y": "y"}, budget="1MB").x["input"].shape == (4, 3)


def test_a_symlink_to_a_secret_shows_only_a_short_escaped_excerpt(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$" + "S" * 80 + "\x1b[2J:19000:0:99999:7:::\ndaemon:x:1:1\n")
    os.symlink(secret, tmp_path / "d.csv")
    with pytest.raises(DataError) as caught:
        load(tmp_path, {"path": "d.csv", "y": "label"})
    message = caught.value.lines()[0]
    assert message.endswith("no column 'label' in d.csv; columns are: root:$6$SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS...")
    assert "\x1b" not in message and "19000" not in message


def test_a_long_bad_cell_is_an_escaped_excerpt(tmp_path):
    (tmp_path / "d.csv").write_text("a,label\n1,x\n\x1b]0;PWNED\x07" + "Z" * 500 + ",y\n")
    with pytest.raises(DataError) as caught:
        load(tmp_path, {"path": "d.csv", "y": "label"})
    assert (
        "d.csv: column 'a', line 3: '\\x1b]0;PWNED\\x07ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ...' is not a number; "
        in caught.value.lines()[0]
    )


def test_duplicate_column_names_are_an_error(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,a,label\n1,2,3,x\n")
    with pytest.raises(
        DataError, match=r"d\.csv has two columns named 'a' \(columns 1 and 3\); column names must be unique"
    ):
        load(tmp_path, {"path": "d.csv", "y": "label"})


def test_rows_quoted_by_the_reader_are_cut_short():
    exc = ValueError("CSV parse error: Expected 3 columns, got 6: 3,4,5,6,7," + "S" * 300 + "\nmore")
    assert (
        arrow_reason(exc) == "CSV parse error: Expected 3 columns, got 6: '3,4,5,6,7,SSSSSSSSSSSSSSSSSSSSSSSSSSSSSS...'"
    )
