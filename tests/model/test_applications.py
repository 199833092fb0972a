"""`keras.applications` models as node types: validation, one nested model, preprocess_input, import."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import yaml
from conftest import write_config

from kerascli.model import applications

NODE = "{name: backbone, type: %s, alpha: 0.35, include_top: false, weights: null, input_shape: [32, 32, 3]}"
CONFIG = """\
name: app
model:
  inputs: {image: {shape: [32, 32, 3]}}
  layers:
    - %s
    - {type: GlobalAveragePooling2D}
    - {name: out, type: Dense, units: 2, activation: softmax}
"""


@pytest.mark.parametrize(
    "node, message",
    [
        (NODE % "mobilenet_v2", "model.layers[0].type: unknown layer 'mobilenet_v2' (did you mean 'MobileNetV2'?)"),
        (
            NODE % "keras.applications.MobileNetV2",
            "unknown layer 'keras.applications.MobileNetV2' (did you mean 'MobileNetV2'?)",
        ),
        (
            NODE.replace("alpha", "alpah") % "MobileNetV2",
            "MobileNetV2 got an unexpected argument 'alpah' (did you mean 'alpha'?)",
        ),
        (
            NODE.replace("weights: null", "weights: imagenet.h5") % "MobileNetV2",
            "model.layers[0].weights: expected imagenet, null or a .weights.h5 file, got 'imagenet.h5'",
        ),
        (
            NODE.replace("}", ", input_tensor: x}") % "MobileNetV2",
            "MobileNetV2: 'input_tensor' is set by kerascli (the node's input)",
        ),
        (
            "{type: Dense, units: 2, freeze: [a]}",
            "model.layers[0].freeze: 'freeze' selects layers inside an application",
        ),
        (
            "{type: Dense, units: 2, preprocess_input: true}",
            "model.layers[0].preprocess_input: 'preprocess_input' belongs to keras.applications nodes, not a layer",
        ),
    ],
    ids=[
        "snake-case",
        "module-path",
        "misspelt-argument",
        "legacy-weights",
        "input-tensor",
        "freeze-a-layer",
        "preprocess-a-layer",
    ],
)
def test_validate_knows_the_applications(cli, workdir, node, message):
    config = write_config(workdir, CONFIG % node)
    result = cli("validate", config)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_missing_weights_file_is_a_config_error(cli, workdir):
    config = write_config(
        workdir, CONFIG % NODE.replace("weights: null", "weights: backbone.weights.h5") % "MobileNetV2"
    )
    result = cli("summary", config)
    assert result.exit_code == 2
    assert f"model.layers[0].weights: no such weights file: {workdir / 'backbone.weights.h5'}" in result.stderr


def test_every_keras_application_is_a_node_type(cli, workdir):
    names = [n for n in dir(keras.applications) if n[:1].isupper() and callable(getattr(keras.applications, n))]
    assert len(names) >= 38
    for name in names:
        config = write_config(workdir, CONFIG % f"{{type: {name}, weights: null, include_top: false}}")
        assert cli("validate", config).exit_code == 0, name


def test_preprocess_input_is_the_applications_own():
    pixels = keras.ops.convert_to_tensor(np.array([[[[0.0, 127.5, 255.0]]]], dtype="float32"))
    assert np.allclose(keras.ops.convert_to_numpy(applications.preprocess("MobileNetV2", pixels)), [-1.0, 0.0, 1.0])
    caffe = keras.ops.convert_to_numpy(applications.preprocess("ResNet50", pixels))  # BGR, ImageNet means off
    assert np.allclose(caffe, [[[[255.0 - 103.939, 127.5 - 116.779, 0.0 - 123.68]]]])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One tiny MobileNetV2 under a head, from configs/transfer.yaml's node (the build is slow on JAX CPU)."""
    from typer.testing import CliRunner

    from kerascli.cli import app

    workdir = tmp_path_factory.mktemp("app")
    config = write_config(
        workdir, CONFIG % NODE.replace("}", ", preprocess_input: true, trainable: false}") % "MobileNetV2"
    )
    result = CliRunner().invoke(app, ["summary", str(config), "--json", "--expand"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
def test_an_application_is_one_nested_model(built):
    top = [row for row in built["layers"] if row["depth"] == 0]
    assert [row["type"] for row in top] == [
        "InputLayer",
        "TrueDivide",
        "Subtract",
        "MobileNetV2",
        "GlobalAveragePooling2D",
        "Dense",
    ]  # preprocess_input: ops in the graph
    row = next(row for row in top if row["name"] == "backbone")
    expected = keras.applications.MobileNetV2(alpha=0.35, include_top=False, weights=None, input_shape=(32, 32, 3))
    assert row["params"] == expected.count_params()
    assert not row["trainable"]
    assert built["trainable_params"] == 1280 * 2 + 2  # only the head
    inner = [row["name"] for row in built["layers"] if row["depth"] == 1]
    assert "backbone/Conv1" in inner and len(inner) == len(expected.layers) - 1  # --expand; the input layer left out


@pytest.mark.slow
def test_import_writes_an_application_as_one_node(cli, workdir):
    base = keras.applications.MobileNetV2(alpha=0.35, include_top=False, weights=None, input_shape=(32, 32, 3))
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(base(inputs)))
    keras.Model(inputs, outputs).save(workdir / "transfer.keras")
    result = cli("import", workdir / "transfer.keras", "-o", workdir / "imported.yaml")
    assert result.exit_code == 0, result.output
    text = (workdir / "imported.yaml").read_text()
    config = yaml.safe_load(text)
    assert config["model"]["layers"][0] == {
        "name": "mobilenetv2_0.35_32",
        "type": "MobileNetV2",
        "input_shape": [32, 32, 3],
        "include_top": False,
        "alpha": 0.35,
        "weights": None,
    }
    assert "blocks" not in config and len(text.splitlines()) < 20
    assert cli("validate", workdir / "imported.yaml").exit_code == 0
