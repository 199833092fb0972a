"""`kerascli import`: config → train → model.keras → import → build gives the same model."""

import json

import numpy as np
import pytest
import yaml
from conftest import write_config

MULTI_OUTPUT = """
name: heads
seed: 3
data:
  train: {path: heads.npz, x: x, y: {cls: label, size: size}}
model:
  layers:
    - {name: trunk, type: Dense, units: 8, activation: relu, kernel_regularizer: {type: L2, l2: 0.001}}
    - {name: drop, type: Dropout, rate: 0.25}
    - {name: cls, type: Dense, units: 3, activation: softmax, inputs: drop}
    - {name: hidden, type: Dense, units: 4, use_bias: false, inputs: trunk}
    - {name: size, type: Dense, units: 1, inputs: hidden}
  outputs: [cls, size]
compile:
  optimizer: adam
  loss: {cls: sparse_categorical_crossentropy, size: mse}
fit: {epochs: 1, batch_size: 16}
"""


def graph_of(model) -> dict:
    """Each layer's class and, per call, the layers whose outputs it read."""
    graph = {}
    for layer in model.get_config()["layers"]:
        calls = []
        for node in layer.get("inbound_nodes", []):
            flat = []
            for arg in list(node["args"]) + list(node["kwargs"].values()):
                for item in arg if isinstance(arg, list) else [arg]:
                    if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
                        flat.append(item["config"]["keras_history"][0])
            calls.append(flat)
        graph[layer["name"]] = (layer["class_name"], calls)
    return graph


def rebuild(config_path):
    """Validates and builds a config the way `train` does (no data needed)."""
    from kerascli.model import functional as build
    from kerascli.run.validating import validate

    checked = validate(config_path)
    doc, cfg = checked.doc, checked.cfg
    extra = {"blocks": cfg.blocks} if getattr(cfg, "blocks", None) else {}
    return build.build_model(cfg.model, doc, **extra)


def import_and_rebuild(cli, model_file, workdir):
    target = workdir / "imported.yaml"
    result = cli("import", model_file, "-o", target)
    assert result.exit_code == 0, result.output
    assert cli("validate", target).exit_code == 0
    return yaml.safe_load(target.read_text()), rebuild(target)


def test_sequential_round_trip(cli, iris_config, workdir):
    import keras

    result = cli("train", iris_config, "--set", "fit.epochs=1", "--quiet", "--json")
    assert result.exit_code == 0, result.output
    model_file = workdir / json.loads(result.output)["run_dir"] / "model.keras"
    original = keras.saving.load_model(model_file)
    config, rebuilt = import_and_rebuild(cli, model_file, workdir)
    # only arguments that differ from Keras' defaults are written
    assert config["model"]["layers"][0] == {"name": "dense_0", "type": "Dense", "units": 16, "activation": "relu"}
    assert rebuilt.count_params() == original.count_params() == 4 * 16 + 16 + 16 * 3 + 3
    assert graph_of(rebuilt) == graph_of(original)


def test_functional_multi_output_round_trip(cli, workdir):
    import keras

    rng = np.random.default_rng(0)
    np.savez(
        workdir / "heads.npz",
        x=rng.normal(size=(40, 5)).astype("float32"),
        label=rng.integers(0, 3, 40),
        size=rng.normal(size=(40, 1)).astype("float32"),
    )
    config_path = write_config(workdir, MULTI_OUTPUT, "heads.yaml")
    result = cli("train", config_path, "--quiet", "--json")
    assert result.exit_code == 0, result.output
    model_file = workdir / json.loads(result.output)["run_dir"] / "model.keras"
    original = keras.saving.load_model(model_file)
    config, rebuilt = import_and_rebuild(cli, model_file, workdir)
    layers = {node["name"]: node for node in config["model"]["layers"]}
    assert layers["trunk"]["kernel_regularizer"] == {"type": "L2", "l2": 0.001}
    assert layers["hidden"] == {"name": "hidden", "type": "Dense", "units": 4, "use_bias": False, "inputs": "trunk"}
    assert config["model"]["outputs"] == ["cls", "size"]
    assert rebuilt.count_params() == original.count_params()
    assert graph_of(rebuilt) == graph_of(original)
    assert sorted(rebuilt.output) == ["cls", "size"]


def _spec_has_share_and_blocks() -> bool:
    from kerascli.config.spec import Config, Node

    return "share" in Node.model_fields and "blocks" in Config.model_fields


@pytest.mark.skipif(
    not _spec_has_share_and_blocks(), reason="needs `share:` nodes and `blocks:` (the graphs issue) in the spec"
)
def test_shared_layer_and_nested_model_round_trip(cli, workdir):
    import keras

    left, right = keras.Input((6,), name="left"), keras.Input((6,), name="right")
    encoder = keras.layers.Dense(4, activation="tanh", name="encoder")
    inner_in = keras.Input((8,))
    head = keras.Model(
        inner_in,
        keras.layers.Dense(2, name="proj")(keras.layers.Dense(5, activation="relu", name="hid")(inner_in)),
        name="head",
    )
    joined = keras.layers.Concatenate(name="joined")([encoder(left), encoder(right)])
    original = keras.Model([left, right], keras.layers.Dense(1, activation="sigmoid", name="score")(head(joined)))
    model_file = workdir / "siamese.keras"
    original.save(model_file)
    config, rebuilt = import_and_rebuild(cli, model_file, workdir)
    layers = config["model"]["layers"]
    assert {"name": "encoder_call2", "share": "encoder", "inputs": "right"} in layers
    assert "head" in config["blocks"]
    assert rebuilt.count_params() == original.count_params() == 6 * 4 + 4 + 8 * 5 + 5 + 5 * 2 + 2 + 2 + 1
    assert [layer.count_params() for layer in rebuilt.layers if layer.name == "head"] == [
        original.get_layer("head").count_params()
    ]
    assert graph_of(rebuilt) == graph_of(original)


def test_h5_is_refused_with_the_reason(cli, workdir):
    (workdir / "old.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    result = cli("import", workdir / "old.h5")
    assert result.exit_code == 2
    assert "legacy HDF5 model files are not read" in result.output
    assert "safe_mode" in result.output and "model.save('model.keras')" in result.output


def test_missing_and_unsafe_files(cli, workdir):
    result = cli("import", workdir / "missing.keras")
    assert result.exit_code == 2 and "no such file" in result.output
    (workdir / "broken.keras").write_text("not a zip")
    result = cli("import", workdir / "broken.keras")
    assert result.exit_code == 1 and "cannot load" in result.output


def test_keyword_calls_wrappers_and_resolved_defaults(cli, workdir):
    import keras

    from kerascli.model.importer import model_to_config, write_config

    query, value = keras.Input((5, 8), name="query_seq"), keras.Input((7, 8), name="value_seq")
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="attend")(query, value)
    pooled = keras.layers.MaxPooling1D(name="pool")(attended)
    encoded = keras.layers.Bidirectional(keras.layers.SimpleRNN(3), name="bi")(pooled)
    original = keras.Model([query, value], keras.layers.Dense(2, trainable=False, name="out")(encoded))
    layers = {node["name"]: node for node in model_to_config(original)["model"]["layers"]}
    assert layers["attend"]["inputs"] == {"query": "query_seq", "value": "value_seq"}
    assert layers["pool"] == {"name": "pool", "type": "MaxPooling1D"}  # strides = pool_size, channels_last: defaults
    assert layers["bi"] == {"name": "bi", "type": "Bidirectional", "layer": {"type": "SimpleRNN", "units": 3}}
    assert layers["out"]["trainable"] is False
    # (save/load through the CLI is covered above; here the config is rebuilt directly)
    target = workdir / "attention.yaml"
    target.write_text(write_config(model_to_config(original), target))
    rebuilt = rebuild(target)
    assert rebuilt.count_params() == original.count_params()
    assert rebuilt.get_layer("out").trainable is False
    assert graph_of(rebuilt) == graph_of(original)


def test_keras_model_names_become_unique_block_names():
    from kerascli.model.importer.converter import block_identifier

    assert block_identifier("mobilenetv2_0.35_32") == "mobilenetv2_0_35_32"
    assert block_identifier("3x3-stage") == "_3x3_stage"
