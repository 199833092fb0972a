"""`dtype_policy:`: every layer under the policy, outputs float32, loss scaling for mixed_float16."""

from __future__ import annotations

import json
import zipfile

import keras
import pytest
from conftest import write_config

CONFIG = """\
name: mixed
seed: 2
dtype_policy: {policy}
data:
  train: {{path: data/iris.csv, y: species}}
model:
  layers:
    - {{name: hidden, type: Dense, units: 8, activation: relu}}
    - {{name: species, type: Dense, units: 3, activation: softmax}}
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy}}
fit: {{epochs: 1, batch_size: 32}}
"""


def saved(cli, workdir, policy):
    config = write_config(workdir, CONFIG.format(policy=policy))
    result = cli("train", config, "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run = workdir / json.loads(result.stdout)["run_dir"]
    return run, json.loads(zipfile.ZipFile(run / "model.keras").read("config.json"))


def policy_of(layer: dict) -> str:
    dtype = layer["config"]["dtype"]
    return dtype["config"]["name"] if isinstance(dtype, dict) else dtype


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_every_layer_has_the_policy_and_the_output_stays_float32(cli, workdir, policy):
    run, config = saved(cli, workdir, policy)
    layers = {layer["name"]: policy_of(layer) for layer in config["config"]["layers"]}
    assert layers == {"input": "float32", "hidden": policy, "species": "float32"}  # the input: the data dtype
    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    assert str(model.output.dtype) == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is back


def test_mixed_float16_trains_with_loss_scaling(cli, workdir):
    run, _ = saved(cli, workdir, "mixed_float16")
    assert json.loads((run / "run.json").read_text())["dtype_policy"] == {"name": "mixed_float16", "loss_scale": True}
    run, _ = saved(cli, workdir, "mixed_bfloat16")  # bfloat16 has float32's range: no scaling
    assert json.loads((run / "run.json").read_text())["dtype_policy"] == {"name": "mixed_bfloat16", "loss_scale": False}


def test_summary_shows_each_layers_policy(cli, workdir):
    config = write_config(workdir, CONFIG.format(policy="mixed_bfloat16"))
    result = cli("summary", config, "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["dtype_policy"] == "mixed_bfloat16"
    assert [(r["name"], r["dtype_policy"]) for r in info["layers"]] == [
        ("input", "mixed_bfloat16"),
        ("hidden", "mixed_bfloat16"),
        ("species", "float32"),
    ]


def test_an_unknown_policy_is_a_config_error(cli, workdir):
    config = write_config(workdir, CONFIG.format(policy="mixed_float8"))
    result = cli("validate", config)
    assert result.exit_code == 2
    assert "dtype_policy: expected one of 'float32', 'float16', 'bfloat16'" in result.stderr
