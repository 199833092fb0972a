"""Data sources: CSV/NPZ/NPY, label vocabularies, the seeded split, strict errors."""

import numpy as np
import pytest

from kerascli import config, data
from kerascli.config.spec import Source
from kerascli.errors import DataError


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


@pytest.mark.parametrize(
    "files, source, message",
    [
        ({}, {"path": "missing.csv", "y": "a"}, "file not found"),
        (
            {"d.csv": "a,label\n1,x\n"},
            {"path": "d.csv", "y": "lable"},
            "no column 'lable' in d.csv (did you mean 'label'?)",
        ),
        (
            {"d.csv": "a,b,label\n1,zz,0\n"},
            {"path": "d.csv", "x": ["a", "b"], "y": "label"},
            "d.csv: column 'b', line 2: 'zz' is not a number; to use it, encode it: data.categories: {b: {}}",
        ),
        (
            {"d.csv": "a,label\n1,0\nnan,1\n"},
            {"path": "d.csv", "y": "label"},
            "d.csv: column 'a', line 3: NaN (an empty cell reads as NaN)",
        ),
        ({"d.txt": "x"}, {"path": "d.txt"}, "unsupported file type '.txt'"),
        ({"d.csv": "a,label\n"}, {"path": "d.csv", "y": "label"}, "d.csv has no rows"),
    ],
    ids=["missing-file", "unknown-column", "non-numeric", "nan", "bad-suffix", "empty"],
)
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


# -- formats, selection, shards (issue 4) ------------------------------------

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from kerascli.data.lazy import RowView, ShardedArray  # noqa: E402


def wide_parquet(tmp_path, name="d.parquet"):
    columns = {f"px_{i}": np.arange(4, dtype=np.float64) + i for i in range(3)}
    columns.update({"f1": np.ones(4), "f10": np.zeros(4), "id": np.arange(4), "label": ["a", "b", "a", "b"]})
    pq.write_table(pa.table(columns), tmp_path / name)


@pytest.mark.parametrize(
    "x, expected",
    [
        ({"glob": "px_*"}, [0, 1, 2]),
        ({"regex": "f1"}, [1]),  # full match: not f10
        ({"exclude": ["id"]}, [0, 1, 2, 1, 0]),  # all but id and the target
        ({"glob": "px_*", "exclude": "px_1"}, [0, 2]),
        (["f10", "px_2"], [0, 2]),
    ],
    ids=["glob", "regex-full-match", "exclude", "glob-exclude", "list"],
)
def test_parquet_column_selection(tmp_path, x, expected):
    wide_parquet(tmp_path)
    labels = data.Labels()
    arrays = load(tmp_path, {"path": "d.parquet", "x": x, "y": "label"}, labels=labels, fit_labels=True)
    assert arrays.x["input"].dtype == np.float32
    assert arrays.x["input"][0].tolist() == expected
    assert arrays.y["out"].tolist() == [0, 1, 0, 1] and labels == {"out": ["a", "b"]}


@pytest.mark.parametrize(
    "x, message",
    [
        ({"exclude": ["idd"]}, "exclude: no column 'idd' in d.parquet (did you mean 'id'?)"),
        (
            {"glob": "pix_*"},
            "glob 'pix_*' picks no column of d.parquet; columns are: px_0, px_1, px_2, f1, f10, id, label",
        ),
        (
            {"regex": "px_.*", "exclude": ["px_0", "px_1", "px_2"]},
            "regex 'px_.*' picks no column of d.parquet once the excluded and target columns are removed",
        ),
    ],
    ids=["exclude-unknown", "glob-matches-nothing", "everything-excluded"],
)
def test_selection_errors(tmp_path, x, message):
    wide_parquet(tmp_path)
    with pytest.raises(DataError) as info:
        load(tmp_path, {"path": "d.parquet", "x": x, "y": "label"})
    assert message in str(info.value)


@pytest.mark.parametrize(
    "x, message",
    [
        ({"regex": "px_("}, "invalid regular expression 'px_('"),
        ({"glob": "a*", "regex": "b"}, "give 'glob' or 'regex', not both"),
    ],
    ids=["bad-regex", "glob-and-regex"],
)
def test_pattern_spec_errors(tmp_path, x, message):
    from kerascli.config.spec import from_document
    from kerascli.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text(f"model: {{layers: [{{type: Dense, units: 1}}]}}\ndata:\n  train: {{path: d.csv, x: {x}}}\n")
    with pytest.raises(ConfigError) as info:
        from_document(config.load(path))
    assert "c.yaml:3:" in str(info.value) and message in str(info.value)


def test_npz_keys_by_glob(tmp_path):
    np.savez(tmp_path / "d.npz", a1=np.zeros(3), a2=np.ones(3), y=np.arange(3))
    arrays = load(tmp_path, {"path": "d.npz", "x": {"glob": "a*"}})
    assert arrays.x["input"].shape == (3, 2) and arrays.x["input"][:, 1].tolist() == [1, 1, 1]


def test_npy_shard_directory_is_one_lazy_array(tmp_path):
    (tmp_path / "xs").mkdir()
    (tmp_path / "ys").mkdir()
    for i, rows in enumerate([3, 4, 2]):
        np.save(tmp_path / "xs" / f"part-{i}.npy", np.full((rows, 2), i, dtype=np.float32))
        np.save(tmp_path / "ys" / f"part-{i}.npy", np.full(rows, i))
    arrays = load(tmp_path, {"x": "xs", "y": "ys/"})
    x = arrays.x["input"]
    assert isinstance(x, ShardedArray) and x.shape == (9, 2) and len(arrays) == 9
    assert x[[0, 3, 8, 7]][:, 0].tolist() == [0, 1, 2, 2]
    assert x[2:5][:, 0].tolist() == [0, 1, 1]
    train, val = data.split(arrays, 0.3, 0, doc_at(tmp_path), ("data",))
    assert isinstance(val.x["input"], RowView) and len(val) == 2 and len(train) == 7
    assert np.array_equal(np.asarray(val.x["input"])[:, 0], val.y["out"][:])


def test_split_of_a_memmap_stays_lazy(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(20, dtype=np.float32).reshape(10, 2))
    np.save(tmp_path / "y.npy", np.arange(10))
    arrays = load(tmp_path, {"x": "x.npy", "y": "y.npy"})
    train, val = data.split(arrays, 0.3, 42, doc_at(tmp_path), ("data",))
    assert isinstance(train.x["input"], RowView) and isinstance(val.y["out"], RowView)
    order = np.random.default_rng(42).permutation(10)
    assert np.asarray(val.y["out"]).tolist() == order[:3].tolist()
    assert train.lazy_bytes() == 7 * (2 * 4 + 8)


def _write(tmp_path, files):
    for name, content in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        elif isinstance(content, str):
            target.write_text(content)
        else:
            np.save(target, content)


@pytest.mark.parametrize(
    "files, source, message",
    [
        ({"d.parquet": b"PAR1 not really"}, {"path": "d.parquet", "y": "a"}, "cannot read d.parquet:"),
        ({"d.npz": b"PK garbage"}, {"path": "d.npz"}, "cannot read d.npz:"),
        (
            {"x.npy": np.zeros((3, 2)), "y.npy": np.zeros(4)},
            {"x": "x.npy", "y": "y.npy"},
            "inputs and targets have different row counts (x.input: 3, y.out: 4)",
        ),
        (
            {"x.npy": np.array(["a", "b"]), "y.npy": np.zeros(2)},
            {"x": "x.npy", "y": "y.npy"},
            "x.npy holds <U1 values, expected numbers",
        ),
        (
            {"x.npy": np.array([[1.0], [np.inf]]), "y.npy": np.zeros(2)},
            {"x": "x.npy", "y": "y.npy"},
            "'input', row 1: inf",
        ),
        (
            {"xs/a.npy": np.zeros((2, 2)), "xs/b.npy": np.zeros((2, 3)), "y.npy": np.zeros(4)},
            {"x": "xs", "y": "y.npy"},
            "shard b.npy of xs holds float64 rows of shape [3], but a.npy holds float64 rows of shape [2]",
        ),
        ({"xs/readme.txt": "x", "y.npy": np.zeros(4)}, {"x": "xs", "y": "y.npy"}, "no .npy files in directory"),
        (
            {"d.csv": "a,label\n1,0\n2,\n"},
            {"path": "d.csv", "y": "label"},
            "d.csv: column 'label', line 3: NaN (an empty cell reads as NaN)",
        ),
    ],
    ids=[
        "corrupt-parquet",
        "corrupt-npz",
        "row-mismatch",
        "string-npy",
        "inf-npy",
        "shard-mismatch",
        "empty-shard-dir",
        "empty-target",
    ],
)
def test_more_strict_errors(tmp_path, files, source, message):
    _write(tmp_path, files)
    with pytest.raises(DataError) as info:
        load(tmp_path, source)
    assert message in str(info.value)
    assert str(info.value).startswith(str(tmp_path / "c.yaml") + ":2:")


def test_read_rows_reads_the_file_not_the_mapping(tmp_path):
    from kerascli.data.lazy import read_rows

    values = np.arange(60, dtype=np.float64).reshape(20, 3)
    np.save(tmp_path / "a.npy", values[:12])
    np.save(tmp_path / "b.npy", values[12:])
    a, b = (np.load(tmp_path / f"{n}.npy", mmap_mode="r") for n in "ab")
    rows = np.array([0, 1, 2, 5, 11, 12, 19])
    assert np.array_equal(read_rows(a, rows[:5]), values[rows[:5]])
    assert np.array_equal(read_rows(a, slice(3, 9)), values[3:9])
    sharded = ShardedArray([a, b])
    assert np.array_equal(read_rows(sharded, rows), values[rows])
    view = RowView(sharded, np.array([19, 3, 12, 0]))
    assert np.array_equal(read_rows(view, np.array([0, 2, 3])), values[[19, 12, 0]])


@pytest.mark.parametrize("fmt", ["csv", "npz"])
def test_a_column_wins_over_a_folder_of_the_same_name(tmp_path, fmt):
    # a folder `y/` (or `label/`) beside the config must not hijack the column `y` of the source
    (tmp_path / "y").mkdir()
    if fmt == "csv":
        (tmp_path / "d.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6,0\n")
    else:
        np.savez(tmp_path / "d.npz", x=np.ones((3, 2)), y=np.array([0, 1, 0]))
    arrays = load(tmp_path, {"path": f"d.{fmt}", "y": "y"})
    assert arrays.y["out"].tolist() == [0, 1, 0] and arrays.x["input"].shape == (3, 2)
