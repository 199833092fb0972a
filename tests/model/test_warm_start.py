"""`model.weights_from`: layers load by name from a run or a .keras file; mismatches are errors."""

from __future__ import annotations

import json

import keras
import numpy as np
from conftest import write_config

BASE = """\
name: base
seed: 1
data:
  train: {path: data/iris.csv, y: species}
model:
  layers:
    - {name: enc, type: Dense, units: 8, activation: relu}
    - {name: species, type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
fit: {epochs: 1, batch_size: 32}
"""


def train(cli, workdir, text, name):
    config = write_config(workdir, text, name=f"{name}.yaml")
    result = cli("train", config, "--quiet", "--json")
    return result, (workdir / json.loads(result.stdout)["run_dir"]) if result.exit_code == 0 else None


def kernel(run, layer):
    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    return keras.ops.convert_to_numpy(model.get_layer(layer).kernel)


def test_matching_layers_load_by_name_and_the_rest_start_fresh(cli, workdir):
    _, base = train(cli, workdir, BASE, "base")
    text = (
        BASE.replace("name: base", "name: warm")
        .replace("  layers:", f"  weights_from: {base}\n  layers:")
        .replace("{name: species, type: Dense, units: 3", "{name: new_head, type: Dense, units: 3")
    )
    config = write_config(
        workdir, text.replace("optimizer: adam", "optimizer: {type: SGD, learning_rate: 0.0}"), name="warm.yaml"
    )
    result = cli("train", config, "--quiet", "--json")
    assert result.exit_code == 0, result.output
    assert "loaded the weights of 1 layer(s) from" in result.stderr
    assert "not loaded (no layer of that name, they start fresh): new_head" in result.stderr
    run = workdir / json.loads(result.stdout)["run_dir"]
    report = json.loads((run / "run.json").read_text())["warm_start"]
    assert report["loaded"] == ["enc"] and report["not_loaded"] == ["new_head"]
    assert report["source"] == str(base / "model.keras")
    assert np.array_equal(kernel(run, "enc"), kernel(base, "enc"))  # SGD at rate 0: unchanged by training


def test_a_layer_of_another_shape_is_an_error_naming_it(cli, workdir):
    _, base = train(cli, workdir, BASE, "base")
    text = BASE.replace("  layers:", f"  weights_from: {base}/model.keras\n  layers:").replace("units: 8", "units: 5")
    config = write_config(workdir, text, name="wide.yaml")
    result = cli("train", config, "--quiet")
    assert result.exit_code == 2, result.output
    assert "model.weights_from: layer 'enc': weight 'kernel' has shape [4, 5] here and [4, 8] in " in result.stderr


def test_a_missing_source_is_a_config_error(cli, workdir):
    config = write_config(workdir, BASE.replace("  layers:", "  weights_from: runs/nothing\n  layers:"))
    result = cli("train", config, "--quiet")
    assert result.exit_code == 2
    assert "model.weights_from: no such run directory or file: " in result.stderr
    assert not (workdir / "runs").exists()
