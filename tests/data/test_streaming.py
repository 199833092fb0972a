"""Out-of-core fit through a PyDataset, streamed predict, strict checks against the model."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from kerascli import data
from kerascli.data import chunks, predicting

keras = pytest.importorskip("keras")

from kerascli.data import streaming  # noqa: E402  (imports keras)


class CountingArray:
    """A lazy 2-D array that records every read and refuses to be loaded whole."""

    def __init__(self, values: np.ndarray):
        self.values = values
        self.shape, self.dtype, self.ndim = values.shape, values.dtype, values.ndim
        self.reads: list[int] = []

    def __len__(self):
        return len(self.values)

    def __getitem__(self, index):
        out = self.values[index]
        self.reads.append(len(out))
        return out

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("the whole array was materialised")


def test_fit_streams_batches_from_a_lazy_array_without_loading_it(tmp_path):
    n, batch = 1000, 64
    x = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=(n, 8))
    x[:] = np.random.default_rng(0).normal(size=(n, 8))
    x.flush()
    xs = CountingArray(np.load(tmp_path / "x.npy", mmap_mode="r"))
    ys = CountingArray(np.arange(n) % 2)
    train, val = data.split(data.Arrays({"input": xs}, {"out": ys}), 0.2, 7, None, ("data",))
    train_feed, val_feed = streaming.fit_feeds(
        train, val, batch_size=batch, validation_batch_size=None, shuffle=True, seed=7, budget=1024
    )
    assert train_feed.streamed and val_feed.streamed and train_feed.batch_size is None
    first = train_feed.x[0]
    assert first[0].dtype == np.float32 and first[0].shape == (batch, 8)  # float64 converted per batch
    xs.reads.clear()

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(train_feed.x, epochs=2, validation_data=val_feed.validation_data, verbose=0, shuffle=False)
    assert max(xs.reads) <= batch  # never more than one batch at a time
    # every row once per epoch (train and validation), plus the few batches Keras' reader threads read ahead
    assert (
        2 * (len(train) + len(val))
        <= sum(xs.reads)
        <= 2 * (len(train) + len(val)) + 2 * train_feed.x.max_queue_size * batch
    )
    assert train_feed.x.epoch >= 2  # reshuffled after every epoch (Keras also ends one before the first)


def test_epoch_orders_are_seeded_and_differ_per_epoch():
    arrays = data.Arrays({"input": CountingArray(np.arange(100.0)[:, None])}, {})
    first = streaming.MemmapBatches(arrays, 10, True, seed=3)
    second = streaming.MemmapBatches(arrays, 10, True, seed=3)
    epoch0 = np.concatenate([first[i][0][:, 0] for i in range(len(first))])
    assert sorted(epoch0.tolist()) == list(range(100))
    assert np.array_equal(epoch0, np.concatenate([second[i][0][:, 0] for i in range(len(second))]))
    first.on_epoch_end()
    assert not np.array_equal(epoch0, np.concatenate([first[i][0][:, 0] for i in range(len(first))]))


@pytest.fixture
def numbered(tmp_path):
    """x.npy (float64, memory-mapped) whose first column is the row number, and y (in RAM) the same numbers."""
    n = 3000
    x = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=(n, 4))
    x[:] = np.arange(n)[:, None] + np.zeros(4)
    x.flush()
    return data.Arrays({"input": np.load(tmp_path / "x.npy", mmap_mode="r")}, {"out": np.arange(n)})


def epoch_batches(dataset):
    return [dataset[i] for i in range(len(dataset))]


def test_a_streamed_epoch_feeds_every_row_once_in_windows_inputs_paired_with_targets(numbered):
    train, val = data.split(numbered, 0.2, 7, None, ("data",))
    budget = 800 * 2**10  # windows of 25 batches, blocks of 4 rows
    batches = streaming.MemmapBatches(train, 50, True, seed=7, budget=budget)
    assert (batches.window, batches.block) == (1250, 4)
    epochs = []
    for _ in range(2):
        fed = epoch_batches(batches)
        assert all(x.dtype == np.float32 and x.shape[1:] == (4,) and len(x) == len(y) for x, y in fed)
        assert [len(y) for _, y in fed] == [50] * 48  # 2400 rows
        ids = np.concatenate([y for _, y in fed])
        assert np.array_equal(np.concatenate([x[:, 0] for x, _ in fed]), ids)  # each input row with its target
        assert np.array_equal(np.sort(ids), np.sort(numbered.y["out"][train.y["out"]]))  # every row once
        assert np.array_equal(ids, train.y["out"][batches.order()])  # in the epoch's planned order
        epochs.append(ids)
        batches.on_epoch_end()
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled every epoch
    again = streaming.MemmapBatches(train, 50, True, seed=7, budget=budget)
    assert np.array_equal(np.concatenate([y for _, y in epoch_batches(again)]), epochs[0])  # seeded
    val_ids = np.concatenate([y for _, y in epoch_batches(streaming.MemmapBatches(val, 50, False, 7, budget=budget))])
    assert np.array_equal(val_ids, np.sort(val.y["out"]))  # unshuffled: the validation rows in file order


def test_streamed_fit_is_reproducible_and_hands_its_windows_back(numbered):
    weights = []
    for _ in range(2):
        dataset = streaming.MemmapBatches(numbered, 32, True, seed=5, budget=512 * 2**10)
        assert dataset.window == 800  # four windows an epoch
        keras.utils.set_random_seed(5)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(1e-8), "mse")  # row numbers as data: small steps
        model.fit(dataset, epochs=2, verbose=0, shuffle=False)  # as `Feed.shuffle` says: the dataset shuffles itself
        weights.append(model.get_weights())
        assert not dataset._windows and not any(dataset._free.values())  # no window kept after the epoch
    for first, second in zip(*weights):
        assert np.isfinite(first).all() and np.array_equal(first, second)


def test_small_data_stays_in_memory():
    arrays = data.Arrays({"input": np.zeros((10, 2))}, {"out": np.zeros(10)})
    feed, _ = streaming.fit_feeds(
        arrays, None, batch_size=4, validation_batch_size=None, shuffle=True, seed=0, budget=None
    )
    assert not feed.streamed and feed.x.dtype == np.float32 and feed.batch_size == 4 and feed.shuffle


def test_an_in_budget_split_is_read_once_into_one_array_both_sides_view(tmp_path):
    n = 1000
    x = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=(n, 3))
    x[:] = np.arange(3 * n, dtype=np.float64).reshape(n, 3)
    x.flush()
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    train, val = data.split(data.Arrays({"input": mapped}, {"out": np.arange(n) % 3}), 0.25, 5, None, ("data",))
    train_feed, val_feed = streaming.fit_feeds(
        train, val, batch_size=32, validation_batch_size=None, shuffle=True, seed=5, budget=None
    )
    assert not train_feed.streamed and train_feed.x.dtype == np.float32
    assert train_feed.x.base is not None and train_feed.x.base is val_feed.x.base  # one array, two views
    order = np.random.default_rng(5).permutation(n)  # data.split's seeded order: validation first
    np.testing.assert_array_equal(val_feed.x, mapped[order[:250]])
    np.testing.assert_array_equal(train_feed.x, mapped[order[250:]])
    np.testing.assert_array_equal(train_feed.y, (np.arange(n) % 3)[order[250:]])


def test_read_all_reads_a_row_view_in_its_order_in_blocks(tmp_path, monkeypatch):
    from kerascli.data import lazy

    monkeypatch.setattr(lazy, "CHUNK_BYTES", 64)  # many blocks
    values = np.lib.format.open_memmap(tmp_path / "v.npy", mode="w+", dtype=np.float32, shape=(50, 2))
    values[:] = np.arange(100, dtype=np.float32).reshape(50, 2)
    values.flush()
    rows = np.array([49, 0, 17, 18, 3, 48])
    out = lazy.read_all(lazy.RowView(np.load(tmp_path / "v.npy", mmap_mode="r"), rows))
    np.testing.assert_array_equal(out, values[rows])
    assert not isinstance(out, np.memmap)


def test_npy_appender_writes_a_loadable_file(tmp_path):
    target = tmp_path / "p.npy"
    with predicting.PredictionWriter(target, {}, {}) as writer:
        for start in range(0, 10, 4):
            writer.write({"out": np.arange(start, min(start + 4, 10), dtype=np.float32)[:, None] * [1, 2]})
    values = np.load(target)
    assert values.shape == (10, 2) and values[:, 1].tolist() == [2.0 * i for i in range(10)]
    assert [p.name for p in tmp_path.iterdir()] == ["p.npy"]


# -- end to end ---------------------------------------------------------------

CONFIG = """
name: big
seed: 3
data:
  train: {x: x.npy, y: y.npy}
  validation: {split: 0.25}
  memory_budget: 1KB
model:
  layers:
    - {type: Dense, units: 8, activation: relu}
    - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 32}
"""


@pytest.fixture
def npy_run(cli, workdir):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5)).astype(np.float64)
    np.save(workdir / "x.npy", x)
    np.save(workdir / "y.npy", (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1))
    (workdir / "big.yaml").write_text(CONFIG)
    result = cli("train", "big.yaml", "--quiet")
    assert result.exit_code == 0, result.output
    return next((workdir / "runs" / "big").iterdir())


def test_streamed_training_and_chunked_predictions_equal_unchunked(cli, workdir, npy_run, monkeypatch):
    history = json.loads((npy_run / "history.json").read_text())
    assert len(history["loss"]) == 2 and len(history["val_loss"]) == 2  # trained from the streamed memmap

    x = np.load(workdir / "x.npy")
    header = ",".join(f"f{i}" for i in range(5))
    np.savetxt(workdir / "new.csv", x[:100], delimiter=",", header=header, comments="", fmt="%.9g")
    outputs = {}
    for name, rows in (("whole", 10**6), ("chunked", 16)):
        monkeypatch.setattr(chunks, "CHUNK_ROWS", rows)
        for suffix, source in ((".csv", "new.csv"), (".npy", "x.npy"), (".parquet", "x.npy")):
            out = workdir / f"{name}{suffix}"
            result = cli("predict", npy_run, "--input", source, "--output", out, "--batch-size", "16")
            assert result.exit_code == 0, result.output
            outputs[name, suffix] = pq.read_table(out) if suffix == ".parquet" else out.read_bytes()
    for suffix in (".csv", ".npy", ".parquet"):
        assert outputs["whole", suffix] == outputs["chunked", suffix]
    lines = (workdir / "chunked.csv").read_text().splitlines()
    assert lines[0] == "label,p_0,p_1,p_2" and len(lines) == 101
    model = keras.saving.load_model(npy_run / "model.keras")
    raw = model.predict(x.astype(np.float32), batch_size=16, verbose=0)
    assert np.array_equal(np.load(workdir / "chunked.npy"), raw)

    # strict checks on the streamed input: exit 2, no predictions file (not even a partial one)
    np.save(workdir / "wide.npy", np.zeros((4, 7)))
    (workdir / "nan.csv").write_text("f0,f1,f2,f3,f4\n" + "1,2,3,4,5\n" * 40 + "1,2,nan,4,5\n")
    (workdir / "narrow.csv").write_text("f0,f1,f2,f3\n1,2,3,4\n")
    for source, message in [
        ("wide.npy", "input 'input' expects samples of shape [5], the data has [7]"),
        ("nan.csv", "nan.csv: --input: column 'f2', line 42: NaN (an empty cell reads as NaN)"),  # in the third chunk
        ("narrow.csv", "input 'input' expects samples of shape [5], the data has [4]"),
    ]:
        result = cli("predict", npy_run, "--input", source, "--output", workdir / "out.csv", "--batch-size", "16")
        assert result.exit_code == 2 and message in result.output, (source, result.output)
        assert not [p for p in workdir.iterdir() if "out" in p.name]


def test_label_outside_the_model_classes_stops_training(cli, workdir):
    np.save(workdir / "x.npy", np.zeros((20, 5), dtype=np.float32))
    y = np.array([0, 1, 2] * 6 + [0, 1])
    y[13] = 5
    np.save(workdir / "y.npy", y)
    (workdir / "big.yaml").write_text(CONFIG)
    result = cli("train", "big.yaml", "--quiet")
    assert result.exit_code == 2
    assert (
        "big.yaml:5:21: data.train.y: label 5 of 'dense_1' (row 13) is outside the model's 3 classes (0 to 2)"
        in result.output
    )
    assert not (workdir / "runs").exists()
