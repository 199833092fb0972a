"""Data errors that mislead no one: the file's own line, the file and column, no warnings on stderr."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kerascli import config, data
from kerascli.config.spec import Source
from kerascli.data.chunks import read_chunks
from kerascli.errors import DataError


def load(tmp_path, name: str, text: str, **kw):
    path = tmp_path / name
    path.write_text(text)
    doc = config.parse("data: {}\n", "c.yaml", tmp_path / "c.yaml")
    source = Source(path=name, y="y")
    return data.load(source, doc, ("data", "train"), input_names=None, output_names=["out"], labels=data.Labels(), **kw)


def test_a_header_longer_than_a_megabyte_reads(tmp_path):
    # pyarrow's default 1 MB block called this file "Empty CSV file".
    names = [f"feature_{i:07d}" for i in range(80_000)]
    text = ",".join([*names, "y"]) + "\n" + ",".join(["1"] * len(names) + ["0"]) + "\n"
    assert len(text.splitlines()[0]) > 2**20
    arrays = load(tmp_path, "wide.csv", text)
    assert arrays.x["input"].shape == (1, 80_000)


def test_an_overflow_is_named_and_numpy_stays_quiet(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        with pytest.raises(DataError) as caught:
            load(tmp_path, "big.csv", "a,b,y\n1,2,0\n3,1e39,1\n")
    assert "big.csv: column 'b', line 3: 1e+39 overflows float32" in str(caught.value)


def test_the_same_bad_line_is_reported_with_and_without_a_split(tmp_path):
    rows = "".join(f"{i},{i},{i % 2}\n" for i in range(30))
    text = "a,b,y\n" + rows + "7,,1\n"  # line 32 of the file
    with pytest.raises(DataError) as caught:
        load(tmp_path, "nan.csv", text)
    assert str(caught.value).endswith("nan.csv: column 'b', line 32: NaN (an empty cell reads as NaN)")

    arrays = load(tmp_path, "ok.csv", "a,b,y\n" + rows)
    _, validation = data.split(arrays, 0.3, 1, config.parse("data: {}\n", "c.yaml", tmp_path / "c.yaml"), ("data",))
    # after the shuffled split, rows keep their file lines for every later message
    assert validation.origin.place(0) == f"line {int(validation.origin.rows[0]) + 2}"
    assert np.array_equal(validation.x["input"][0], arrays.x["input"][validation.origin.rows[0]])


def test_a_nan_in_an_npz_array_names_the_file_and_the_key(tmp_path):
    values = np.ones((5, 3), dtype=np.float32)
    values[3, 1] = np.nan
    np.savez(tmp_path / "d.npz", x=values, y=np.arange(5))
    doc = config.parse("data: {}\n", "c.yaml", tmp_path / "c.yaml")
    source = Source(path="d.npz", x="x", y="y")
    with pytest.raises(DataError) as caught:
        data.load(source, doc, ("data", "train"), input_names=None, output_names=["out"], labels=data.Labels())
    # not "'input', row 3: NaN (an empty cell reads as NaN)": an array has no cells, and 'input' is no name in the file
    assert str(caught.value).endswith("d.npz: array 'x', row 3: NaN")
    with pytest.raises(DataError) as caught:
        for _ in read_chunks(source, doc, ("predict",), ["input"], ["out"], 16):
            pass
    assert str(caught.value).endswith("d.npz: array 'x', row 3: NaN")
