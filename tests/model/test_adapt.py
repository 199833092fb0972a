"""Preprocessing layers without state are adapted on the training rows, on the tensor that reaches them."""

import json

import numpy as np
import pytest
from conftest import write_config

from kerascli.model import adapt


def write_rows(path, train_rows, val_rows):
    lines = ["a,b,y"] + [f"{a},{b},{y}" for a, b, y in train_rows + val_rows]
    path.write_text("\n".join(lines) + "\n")


def train(cli, workdir, text, csv_rows=None):
    if csv_rows is None:
        rng = np.random.default_rng(0)
        csv_rows = [(float(a), float(b), int(a > 50)) for a, b in zip(rng.normal(50, 10, 40), rng.normal(-3, 0.5, 40))]
    write_rows(workdir / "d.csv", csv_rows, [])
    result = cli("train", write_config(workdir, text), "--quiet", "--json")
    assert result.exit_code == 0, result.output
    return workdir / json.loads(result.output)["run_dir"], csv_rows


def load_model(run_dir):
    import keras

    return keras.saving.load_model(run_dir / "model.keras")


BASE = """
seed: 0
data:
  train: {path: d.csv, x: [a, b], y: y}
  validation: {split: 0.25, shuffle: false}
model:
  layers:
    - {name: norm, type: Normalization}
    - {type: Dense, units: 1, activation: sigmoid}
compile: {optimizer: adam, loss: binary_crossentropy}
fit: {epochs: 1}
"""


def test_normalization_without_state_is_adapted_on_training_rows_only(cli, workdir):
    rows = [(float(i), -float(i), i % 2) for i in range(30)] + [(1000.0, 1000.0, 1)] * 10  # validation: the last 10
    run_dir, _ = train(cli, workdir, BASE, rows)
    layer = load_model(run_dir).get_layer("norm")
    mean = np.asarray(layer.mean).ravel()
    np.testing.assert_allclose(mean, [14.5, -14.5], rtol=1e-5)  # the 30 training rows; the 1000s never seen
    np.testing.assert_allclose(np.asarray(layer.variance).ravel(), np.var(np.arange(30.0)), rtol=1e-4)
    record = json.loads((run_dir / "run.json").read_text())["adapted"]
    assert record[0]["layer"] == "norm" and record[0]["class"] == "Normalization" and record[0]["rows"] == 30


def test_adapt_false_leaves_the_layer_alone(cli, workdir):
    run_dir, _ = train(
        cli,
        workdir,
        BASE.replace("{name: norm, type: Normalization}", "{name: norm, type: Normalization, adapt: false}"),
    )
    assert json.loads((run_dir / "run.json").read_text())["adapted"] == []
    assert np.asarray(load_model(run_dir).get_layer("norm").mean).ravel().tolist() == [0.0, 0.0]


def test_given_state_is_not_adapted(cli, workdir):
    run_dir, _ = train(
        cli,
        workdir,
        BASE.replace(
            "{name: norm, type: Normalization}", "{name: norm, type: Normalization, mean: 1.0, variance: 4.0}"
        ),
    )
    assert json.loads((run_dir / "run.json").read_text())["adapted"] == []


def test_adapt_sees_the_tensor_after_upstream_layers(cli, workdir):
    text = BASE.replace(
        "    - {name: norm, type: Normalization}\n",
        "    - {type: Rescaling, scale: 10.0}\n    - {name: norm, type: Normalization}\n    - {name: bins, type: Discretization, num_bins: 2}\n",
    )
    run_dir, rows = train(cli, workdir, text)
    model = load_model(run_dir)
    training = np.array(rows, dtype=np.float32)[:30, :2]
    np.testing.assert_allclose(np.asarray(model.get_layer("norm").mean).ravel(), 10 * training.mean(axis=0), rtol=1e-4)
    # Discretization after the adapted Normalization: its boundary is the median of normalised values (~0)
    assert abs(model.get_layer("bins").bin_boundaries[0]) < 0.5
    assert [r["layer"] for r in json.loads((run_dir / "run.json").read_text())["adapted"]] == ["norm", "bins"]


def test_chunked_moments_match_one_adapt_call(tmp_path, monkeypatch):
    import keras

    from kerascli.data.arrays import Arrays

    values = np.random.default_rng(1).normal(3, 2, size=(1000, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", values)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")  # lazy: adapted in chunks
    monkeypatch.setattr(adapt, "CHUNK_BYTES", 1200)  # 100 rows a chunk
    inp = keras.Input((3,), name="input")
    model = keras.Model(inp, keras.layers.Normalization(name="n")(inp))
    from kerascli import config
    from kerascli.config.spec import Config

    (tmp_path / "c.yaml").write_text("model: {layers: [{type: Normalization, name: n}]}\n")
    doc = config.load(tmp_path / "c.yaml")
    records = adapt.adapt_model(
        model, Config.model_validate(doc.data), doc, Arrays({"input": mapped}, {}), batch_size=100
    )
    assert records[0]["rows"] == 1000
    reference = keras.layers.Normalization()
    reference.adapt(values)
    np.testing.assert_allclose(np.asarray(model.get_layer("n").mean), np.asarray(reference.mean), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(model.get_layer("n").variance), np.asarray(reference.variance), rtol=1e-4)


@pytest.mark.parametrize("layer", ["StringLookup", "TextVectorization"])
def test_a_layer_the_install_cannot_run_fails_before_anything_is_written(cli, workdir, layer, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec  # TensorFlow hidden, installed or not
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a))
    (workdir / "d.csv").write_text("a,y\n1,0\n2,1\n")
    config_path = write_config(
        workdir,
        f"""
data: {{train: {{path: d.csv, x: [a], y: y}}}}
model: {{layers: [{{type: {layer}}}, {{type: Dense, units: 1}}]}}
compile: {{optimizer: adam, loss: mse}}
""",
    )
    for command in ("train", "summary"):
        result = cli(command, config_path)
        assert result.exit_code == 2, result.output
        assert (
            f"model.layers[0]: {layer} needs tensorflow, which is not installed: pip install 'kerascli[tensorflow]'"
            in result.output
        )
        assert "on the default install, encode the column in the data instead: data." in result.output
    assert not (workdir / "runs").exists()


def test_a_string_model_input_off_tensorflow_says_how_to_run_it_or_encode_the_column(cli, workdir):
    config_path = write_config(
        workdir,
        """
data:
  train: {path: data/reviews.csv, x: review, y: sentiment}
model:
  inputs: {review: {dtype: string}}
  layers: [{type: Dense, units: 1}]
compile: {optimizer: adam, loss: mse}
""",
    )
    for command in ("train", "summary"):
        result = cli(command, config_path, "--quiet") if command == "train" else cli(command, config_path)
        assert result.exit_code == 2
        assert (
            "config.yaml:5:21: model.inputs.review.dtype: string inputs reach the graph on the TensorFlow backend "
            "only, not jax: set backend: tensorflow (pip install 'kerascli[tensorflow]'); on the default install, "
            "encode the column in the data instead (data.text or data.categories)" in result.output
        )
    assert not (workdir / "runs").exists()


def test_the_run_output_says_what_was_adapted(cli, workdir):
    rows = [(float(i), 2.0 * i, i % 2) for i in range(40)]
    write_rows(workdir / "d.csv", rows, [])
    result = cli("train", write_config(workdir, BASE))
    assert result.exit_code == 0, result.output
    assert "adapted norm (Normalization) on 30 training rows of input 'input' in" in result.stderr


def test_a_layer_inside_a_block_is_adapted_on_what_reaches_it(cli, workdir):
    text = """
seed: 0
blocks:
  pre:
    layers:
      - {type: Rescaling, scale: 2.0, inputs: in}
      - {name: inner_norm, type: Normalization}
data:
  train: {path: d.csv, x: [a, b], y: y}
model:
  layers:
    - {name: p, type: pre}
    - {type: Dense, units: 1, activation: sigmoid}
compile: {optimizer: adam, loss: binary_crossentropy}
fit: {epochs: 1}
"""
    run_dir, rows = train(cli, workdir, text)
    inner = load_model(run_dir).get_layer("p").get_layer("inner_norm")
    expected = 2 * np.array(rows, dtype=np.float32)[:, :2].mean(axis=0)
    np.testing.assert_allclose(np.asarray(inner.mean).ravel(), expected, rtol=1e-4)
