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


# A note cell holding a line break: every record after it starts one line later than its record count says.
NOTES = 'a,b,note,y\n1,2,"first line\nsecond line",0\n\n3,4,plain,1\n'  # records on lines 2, 5


def load_xy(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    doc = config.parse("data: {}\n", "c.yaml", tmp_path / "c.yaml")
    source = Source(path=name, x=["a", "b"], y="y")
    return source, doc


@pytest.mark.parametrize(
    "bad_row, message",
    [
        ("5,,x,1\n", "lines.csv: column 'b', line 6: NaN (an empty cell reads as NaN)"),
        ("5,1e39,x,1\n", "lines.csv: column 'b', line 6: 1e+39 overflows float32 (the largest is 3.4e+38)"),
        ("5,abc,x,1\n", "lines.csv: column 'b', line 6: 'abc' is not a number; to use it, encode it"),
    ],
    ids=["nan", "overflow", "non-numeric"],
)
def test_a_bad_cell_after_a_quoted_line_break_names_the_files_own_line(tmp_path, bad_row, message):
    source, doc = load_xy(tmp_path, "lines.csv", NOTES + bad_row)
    assert (tmp_path / "lines.csv").read_text().splitlines()[5] == bad_row.strip()  # line 6 of the file
    with pytest.raises(DataError) as caught:
        data.load(source, doc, ("data", "train"), input_names=None, output_names=["out"], labels=data.Labels())
    assert message in str(caught.value)
    if "overflow" not in message and "number" not in message:
        with pytest.raises(DataError) as caught:  # predict reads the file in chunks: the same line
            for _ in read_chunks(source, doc, ("data", "predict"), ["input"], ["out"], 16):
                pass
        assert message in str(caught.value)


def test_predict_names_the_line_of_a_text_cell_after_a_quoted_line_break(tmp_path):
    source, doc = load_xy(tmp_path, "lines.csv", NOTES + "5,abc,x,1\n")
    with pytest.raises(DataError) as caught:
        for _ in read_chunks(source, doc, ("data", "predict"), ["input"], ["out"], 16):
            pass
    assert str(caught.value).endswith(
        "lines.csv: column 'b', line 6: 'abc' is not a number; the model reads this column as numbers"
    )


def test_a_split_keeps_the_files_own_lines_after_a_quoted_line_break(tmp_path):
    rows = "".join(f'{i},{i},"note\n{i}",{i % 2}\n' for i in range(20))  # every record spans two lines
    source, doc = load_xy(tmp_path, "two.csv", "a,b,note,y\n" + rows)
    arrays = data.load(source, doc, ("data", "train"), input_names=None, output_names=["out"], labels=data.Labels())
    _, validation = data.split(arrays, 0.25, 3, doc, ("data",))
    row = int(validation.origin.rows[0])
    assert validation.origin.place(0) == f"line {2 + 2 * row}"
    assert (tmp_path / "two.csv").read_text().splitlines()[1 + 2 * row].startswith(f"{row},{row},")


def test_a_label_outside_the_classes_names_its_files_own_line(tmp_path):
    from kerascli.data.checks import check_classes

    source, doc = load_xy(tmp_path, "labels.csv", NOTES + "5,6,x,2\n")
    arrays = data.load(source, doc, ("data", "train"), input_names=None, output_names=["out"], labels=data.Labels())

    class Output:  # the one thing check_classes reads of a Keras output: its name and shape
        name = "out"
        shape = (None, 1)

    class Model:
        outputs = [Output()]

    with pytest.raises(DataError) as caught:
        check_classes(Model(), arrays, {"out": "binary"}, doc, ("data", "train"))
    assert "label 2 of 'out' (labels.csv: line 6) is outside 0 to 1" in str(caught.value)


def test_quoted_line_breaks_across_pyarrows_blocks_read_and_keep_their_lines(tmp_path):
    # pyarrow's fast parse splits 1 MB blocks at line breaks, inside quoted cells too ("Expected 4 columns, got 2").
    rows = "".join(f'{i},{i % 5},"note {i}\nits second line, with a comma",{i % 2}\n' for i in range(40_000))
    assert len(rows) > 2 * 2**20
    source, doc = load_xy(tmp_path, "notes.csv", "a,b,note,y\n" + rows)
    arrays = data.load(source, doc, ("data", "train"), input_names=None, output_names=["out"], labels=data.Labels())
    assert arrays.x["input"].shape == (40_000, 2) and arrays.x["input"][-1, 0] == 39_999
    assert sum(len(c["input"]) for c in read_chunks(source, doc, ("p",), ["input"], ["out"], 16)) == 40_000

    (tmp_path / "notes.csv").write_text("a,b,note,y\n" + rows + "7,,x,1\n")  # line 2 + 2 * 40000
    for read in (
        lambda: data.load(source, doc, ("data", "train"), input_names=None, output_names=["o"], labels=data.Labels()),
        lambda: list(read_chunks(source, doc, ("data", "predict"), ["input"], ["out"], 16)),
    ):
        with pytest.raises(DataError) as caught:
            read()
        assert str(caught.value).endswith("notes.csv: column 'b', line 80002: NaN (an empty cell reads as NaN)")


def test_a_label_that_is_not_utf8_is_named_not_a_traceback(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes(b'a,b,note,y\n1,2,"x\ny",a\n3,4,z,b\xff\n')
    source, doc = Source(path="l.csv", x=["a", "b"], y="y"), config.parse("data: {}\n", "c.yaml", tmp_path / "c.yaml")
    with pytest.raises(DataError) as caught:
        data.load(source, doc, ("data", "train"), input_names=None, output_names=["out"], labels=data.Labels())
    assert str(caught.value).endswith("l.csv: column 'y', line 4: 'b\\xff' is not valid UTF-8: save the file as UTF-8")


def test_predict_names_a_blank_cell_in_a_numeric_column(tmp_path):
    source, doc = load_xy(tmp_path, "blank.csv", NOTES + "5, ,x,1\n")
    with pytest.raises(DataError) as caught:
        list(read_chunks(source, doc, ("data", "predict"), ["input"], ["out"], 16))
    assert str(caught.value).endswith(
        "blank.csv: column 'b', line 6: ' ' is not a number; the model reads this column as numbers"
    )


def test_mutated_csv_files_fail_with_one_located_line_each(tmp_path):
    # Random edits (quotes, separators, line breaks, bad bytes) of a small CSV, read whole and in chunks.
    import random

    base = b'a,b,note,y\n1,2,"x\ny",0\n3,4,plain,1\n5,6,"q""q",0\n7,8,z,1\n'
    rng, alphabet = random.Random(1), b'",\n\r\xff\x00ab1. e-'
    doc = config.parse("data: {}\n", "c.yaml", tmp_path / "c.yaml")
    source = Source(path="f.csv", x=["a", "b"], y="y")
    failures = 0
    for _ in range(200):
        buf = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(buf))
            if rng.random() < 0.5:
                buf.insert(i, rng.choice(alphabet))
            else:
                buf[i] = rng.choice(alphabet)
        (tmp_path / "f.csv").write_bytes(bytes(buf))
        for read in (
            lambda: data.load(
                source, doc, ("data", "train"), input_names=None, output_names=["o"], labels=data.Labels()
            ),
            lambda: list(read_chunks(source, doc, ("data", "predict"), ["input"], ["o"], 16)),
        ):
            try:
                read()
            except DataError as exc:  # anything else fails the test with its traceback
                failures += 1
                message = str(exc)
                assert "\n" not in message, (bytes(buf), message)
                assert "CSV conversion error" not in message and "Expected" not in message, (bytes(buf), message)
    assert failures > 100  # the edits do break most files
