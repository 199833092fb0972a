"""Data sources: CSV/NPZ/NPY, label vocabularies, the seeded split, strict errors."""

import numpy as np
import pytest

from kerascli import config, data
from kerascli.errors import DataError
from kerascli.spec import Source


def doc_at(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  train: {path: d.csv}\n")
    return config.load(path)


def load(tmp_path, source, **kw):
    kw.setdefault("input_names", None)
    kw.setdefault("output_names", ["out"])
    kw.setdefault("labels", data.Labels())
    return data.load(Source(**source), doc_at(tmp_path), ("data", "train"), **kw)


def test_csv_columns_and_string_labels(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n")
    labels = data.Labels()
    arrays = load(tmp_path, {"path": "d.csv", "y": "label"}, labels=labels, fit_labels=True)
    assert arrays.x["input"].dtype == np.float32 and arrays.x["input"].shape == (3, 2)
    assert arrays.y["out"].tolist() == [0, 1, 0]
    assert labels == {"out": ["cat", "dog"]}


def test_unseen_label_is_an_error(tmp_path):
    (tmp_path / "d.csv").write_text("a,label\n1,cat\n2,bird\n")
    with pytest.raises(DataError, match=r"label\(s\) 'bird' of 'out' were not seen in training; known: cat, dog"):
        load(tmp_path, {"path": "d.csv", "y": "label"}, labels=data.Labels(out=["cat", "dog"]))


def test_npz_keys_and_npy_files(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.ones((4, 3)), y=np.arange(4))
    arrays = load(tmp_path, {"path": "d.npz"})
    assert arrays.x["input"].shape == (4, 3) and arrays.y["out"].tolist() == [0, 1, 2, 3]
    np.save(tmp_path / "x.npy", np.zeros((4, 2), dtype=np.float32))
    np.save(tmp_path / "y.npy", np.ones(4))
    arrays = load(tmp_path, {"x": "x.npy", "y": "y.npy"})
    assert isinstance(arrays.x["input"], np.memmap) and len(arrays) == 4


@pytest.mark.parametrize("files, source, message", [
    ({}, {"path": "missing.csv", "y": "a"}, "file not found"),
    ({"d.csv": "a,label\n1,x\n"}, {"path": "d.csv", "y": "lable"}, "no column 'lable' in d.csv (did you mean 'label'?)"),
    ({"d.csv": "a,b,label\n1,zz,0\n"}, {"path": "d.csv", "x": ["a", "b"], "y": "label"}, "column 'b' of d.csv is not numeric (row 2: 'zz')"),
    ({"d.csv": "a,label\n1,0\nnan,1\n"}, {"path": "d.csv", "y": "label"}, "1 row(s) of 'input' hold NaN or inf (first: row 1)"),
    ({"d.txt": "x"}, {"path": "d.txt"}, "unsupported file type '.txt'"),
    ({"d.csv": "a,label\n"}, {"path": "d.csv", "y": "label"}, "d.csv has no rows"),
], ids=["missing-file", "unknown-column", "non-numeric", "nan", "bad-suffix", "empty"])
def test_strict_errors(tmp_path, files, source, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(DataError) as info:
        load(tmp_path, source)
    assert message in str(info.value)
    assert str(info.value).startswith(str(tmp_path / "c.yaml") + ":2:")


def test_corrupt_npy_is_an_error(tmp_path):
    (tmp_path / "x.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match="cannot read x.npy as a .npy array"):
        load(tmp_path, {"x": "x.npy"}, need_y=False)


def test_split_is_seeded_shuffled_and_takes_the_first_part(tmp_path):
    arrays = data.Arrays({"input": np.arange(10)[:, None]}, {"out": np.arange(10)})
    train, val = data.split(arrays, 0.3, 42, doc_at(tmp_path), ("data",))
    order = np.random.default_rng(42).permutation(10)
    assert val.y["out"].tolist() == order[:3].tolist()
    assert train.y["out"].tolist() == order[3:].tolist()
    with pytest.raises(DataError, match="leaves the validation set empty"):
        data.split(data.Arrays({"input": np.arange(2)[:, None]}, {}), 0.3, 1, doc_at(tmp_path), ("data",))
