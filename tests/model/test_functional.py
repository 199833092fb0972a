"""Graphs built from configs equal the same networks written in plain Keras.

For each example config, the model kerascli builds has the parameter count,
weight shapes and output shapes of the hand-written Keras functional model;
blocks become nested models, shared layers are counted once, and errors inside
blocks name the instance and the block's own line.
"""

import json

import keras
import numpy as np
import pytest
from conftest import CONFIGS, write_config
from keras import layers as L

from kerascli.model import functional as build
from kerascli.run import validating as runner


def kerascli_model(name: str, shapes: dict | None = None):
    checked = runner.validate(CONFIGS / name)
    doc, cfg = checked.doc, checked.cfg
    return build.build_model(cfg.model, doc, shapes, blocks=cfg.blocks)


def two_branch():
    a, b = keras.Input((6,), name="a"), keras.Input((3,), name="b")
    left = L.Dense(8, activation="relu")(L.Dense(16, activation="relu")(a))
    right = L.Dense(8, activation="relu")(b)
    h = L.Dense(16, activation="relu")(L.Concatenate()([left, right]))
    return keras.Model({"a": a, "b": b}, L.Dense(1, activation="sigmoid")(h))


def multihead():
    x = keras.Input((8,))
    trunk = L.Dense(32, activation="relu")(L.Dense(32, activation="relu")(x))
    kind = L.Dense(3, activation="softmax")(trunk)
    value = L.Dense(1)(L.Dense(16, activation="relu")(trunk))
    return keras.Model(x, {"kind": kind, "value": value})


def inception_block(x, f1=8, f3=8, f5=4):
    conv = lambda f, k: L.Conv2D(f, k, padding="same", activation="relu")  # noqa: E731
    pool = L.MaxPooling2D(3, strides=1, padding="same")(x)
    return L.Concatenate()([conv(f1, 1)(x), conv(f3, 3)(x), conv(f5, 5)(x), pool])


def inception():
    x = keras.Input((8, 8, 1))
    h = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    h = inception_block(h)
    h = inception_block(h, f1=4, f3=8, f5=4)
    h = inception_block(h, f1=4, f3=8, f5=4)
    return keras.Model(x, L.Dense(3, activation="softmax")(L.GlobalAveragePooling2D()(h)))


def resnet():
    """The toy ResNet of the Keras functional API guide, with the example's widths."""
    inputs = keras.Input((8, 8, 1))
    x = L.Conv2D(8, 3, activation="relu")(inputs)
    x = L.Conv2D(16, 3, activation="relu")(x)
    block_1_output = L.MaxPooling2D(2)(x)
    x = L.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
    x = L.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_2_output = L.add([x, block_1_output])
    x = L.Conv2D(16, 3, activation="relu", padding="same")(block_2_output)
    x = L.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_3_output = L.add([x, block_2_output])
    x = L.Conv2D(16, 1, activation="relu")(block_3_output)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(32, activation="relu")(x)
    x = L.Dropout(0.5)(x)
    return keras.Model(inputs, L.Dense(3, activation="softmax")(x))


def shared_encoder():
    code_in = keras.Input((8,))
    encoder = keras.Model(code_in, L.Dense(8)(L.Dense(16, activation="relu")(code_in)))
    left, right = keras.Input((8,), name="left"), keras.Input((8,), name="right")
    diff = L.Subtract()([encoder(left), encoder(right)])
    h = L.Dense(8, activation="relu")(L.Multiply()([diff, diff]))
    return keras.Model({"left": left, "right": right}, L.Dense(1, activation="sigmoid")(h))


def weight_shapes(model):
    return sorted(tuple(w.shape) for w in model.weights)


def output_shapes(model):
    out = model.output
    if isinstance(out, dict):
        return {k: tuple(v.shape) for k, v in out.items()}
    return tuple(out.shape)


@pytest.mark.parametrize(
    "name, plain, shapes, nested",
    [
        ("two_branch.yaml", two_branch, None, []),
        ("multihead.yaml", multihead, {"input": (8,)}, []),
        ("inception.yaml", inception, {"input": (8, 8, 1)}, ["inc_a", "inc_b_1", "inc_b_2"]),
        ("resnet.yaml", resnet, {"input": (8, 8, 1)}, ["res_1", "res_2"]),
        ("shared_encoder.yaml", shared_encoder, None, ["encode_left"]),
    ],
    ids=["two_branch", "multihead", "inception", "resnet", "shared_encoder"],
)
def test_example_equals_plain_keras(name, plain, shapes, nested):
    model, expected = kerascli_model(name, shapes), plain()
    assert model.count_params() == expected.count_params()
    assert len(model.trainable_weights) == len(expected.trainable_weights)
    assert weight_shapes(model) == weight_shapes(expected)
    assert output_shapes(model) == output_shapes(expected)
    # each block instance is one nested functional model, named after its node
    assert [layer.name for layer in model.layers if isinstance(layer, keras.Model)] == nested


def test_shared_block_is_one_layer_called_twice():
    model = kerascli_model("shared_encoder.yaml")
    encoder = model.get_layer("encode_left")
    assert len(encoder._inbound_nodes) == 2
    assert encoder.count_params() == 8 * 16 + 16 + 16 * 8 + 8  # one set of weights for both calls
    assert "encode_right" not in [layer.name for layer in model.layers]


GRAPHS = "data:\n  train: {path: data/binary.csv, y: target}\n"


def build_text(workdir, text):
    checked = runner.validate(write_config(workdir, GRAPHS + text))
    doc, cfg = checked.doc, checked.cfg
    return build.build_model(cfg.model, doc, {"input": (4,)}, blocks=cfg.blocks)


def test_blocks_use_blocks_with_params_passed_down(workdir):
    model = build_text(
        workdir,
        """blocks:
  unit:
    params: {units: 4, act: relu}
    layers:
      - {name: d, type: Dense, units: $units, activation: $act}
  stage:
    params: {width: 8, depth: 1}
    layers:
      - {name: first, type: unit, units: $width, act: tanh}
      - {name: more, type: unit, units: $width, repeat: $depth}
model:
  layers:
    - {name: s, type: stage, depth: 2}
""",
    )
    stage = model.get_layer("s")
    assert [layer.name for layer in stage.layers if isinstance(layer, keras.Model)] == ["first", "more_1", "more_2"]
    assert stage.get_layer("first").get_layer("d").activation.__name__ == "tanh"
    assert stage.get_layer("more_2").get_layer("d").units == 8
    assert model.count_params() == (4 * 8 + 8) + 2 * (8 * 8 + 8)


def test_shared_keras_layer_and_keyword_inputs(workdir):
    model = build_text(
        workdir,
        """model:
  inputs: {q: {shape: [5, 4]}, v: {shape: [7, 4]}}
  layers:
    - {name: proj_q, type: Dense, units: 6, inputs: q}
    - {name: proj_v, share: proj_q, inputs: v}
    - {name: att, type: MultiHeadAttention, num_heads: 2, key_dim: 3, inputs: {query: proj_q, value: proj_v}}
""",
    )
    q, v = keras.Input((5, 4)), keras.Input((7, 4))
    dense = L.Dense(6)
    plain = keras.Model([q, v], L.MultiHeadAttention(2, 3)(query=dense(q), value=dense(v)))
    assert model.count_params() == plain.count_params() == 30 + 168
    assert tuple(model.output.shape) == (None, 5, 6)


def test_wrappers_take_an_inner_node(workdir):
    model = build_text(
        workdir,
        """model:
  inputs: {seq: {shape: [5, 4]}}
  layers:
    - {type: TimeDistributed, layer: {type: Dense, units: 6}}
    - {type: Bidirectional, layer: {type: LSTM, units: 3}, merge_mode: concat}
""",
    )
    seq = keras.Input((5, 4))
    plain = keras.Model(seq, L.Bidirectional(L.LSTM(3))(L.TimeDistributed(L.Dense(6))(seq)))
    assert model.count_params() == plain.count_params()
    assert tuple(model.output.shape) == (None, 6)


def test_param_substitution_reaches_nested_values(workdir):
    model = build_text(
        workdir,
        """blocks:
  rnn:
    params: {units: 2, kernel: [1, 1]}
    layers:
      - {type: Bidirectional, layer: {type: GRU, units: $units, return_sequences: true}}
      - {type: Reshape, target_shape: [5, $units, 2]}
      - {type: Conv2D, filters: 1, kernel_size: $kernel}
model:
  inputs: {seq: {shape: [5, 4]}}
  layers:
    - {name: r, type: rnn, units: 3, kernel: [2, 2]}
""",
    )
    inner = model.get_layer("r")
    assert inner.layers[-1].kernel_size == (2, 2)
    assert tuple(model.output.shape) == (None, 4, 2, 1)


def test_keras_error_inside_a_block_names_instance_and_block_line(cli, workdir):
    path = write_config(
        workdir,
        """data:
  train: {path: data/shapes.npz}
blocks:
  residual:
    params: {filters: 8}
    layers:
      - {name: conv, type: Conv2D, filters: $filters, kernel_size: 3, padding: same, inputs: in}
      - {name: add, type: Add, inputs: [conv, in]}
  stage:
    layers:
      - {name: res, type: residual, repeat: 2}
model:
  layers:
    - {name: stem, type: Conv2D, filters: 4, kernel_size: 3}
    - {name: body, type: stage}
    - {type: Flatten}
    - {type: Dense, units: 3, activation: softmax}
compile: {loss: sparse_categorical_crossentropy}
""",
    )
    result = cli("train", path, "--quiet")
    assert result.exit_code == 2
    assert (
        "config.yaml:8:9: blocks.residual.layers[1]: in 'body' (model.layers[1], line 15): "
        "in 'res_1' (blocks.stage.layers[0], line 11): 'add' (Add) cannot be applied to its input: "
        "Inputs have incompatible shapes. Received shapes (6, 6, 8) and (6, 6, 4)"
    ) in result.output
    assert not (workdir / "runs").exists()


def test_summary_lists_layers_and_counts_shared_weights_once(cli, workdir):
    path = workdir / "shared_encoder.yaml"
    path.write_text((CONFIGS / "shared_encoder.yaml").read_text())
    result = cli("summary", path, "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert (info["total_params"], info["trainable_params"], info["non_trainable_params"]) == (361, 361, 0)
    rows = {row["name"]: row for row in info["layers"]}
    assert rows["encode_left"]["type"] == "encoder" and rows["encode_left"]["calls"] == 2
    assert rows["same"]["output_shape"] == [None, 1]
    table = cli("summary", path).output
    assert "encode_left (x2)" in table and "total params: 361" in table


def test_summary_infers_input_shapes_from_the_data(cli, workdir):
    path = write_config(workdir, (CONFIGS / "resnet.yaml").read_text(), "resnet.yaml")
    result = cli("summary", path, "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["total_params"] == resnet().count_params() and info["non_trainable_params"] == 0
    assert [r["type"] for r in info["layers"] if r["name"].startswith("res")] == ["residual", "residual"]


def test_multi_output_flat_metrics_history_and_predictions(cli, workdir):
    path = write_config(workdir, (CONFIGS / "multihead.yaml").read_text(), "multihead.yaml")
    result = cli("train", path, "--set", "fit.epochs=1", "--set", "compile.metrics=[accuracy]", "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run_dir = workdir / json.loads(result.output)["run_dir"]
    history = json.loads((run_dir / "history.json").read_text())
    assert {"loss", "kind_loss", "value_loss", "kind_accuracy", "value_accuracy", "val_kind_accuracy"} <= set(history)
    assert json.loads((run_dir / "labels.json").read_text()) == {"kind": ["high", "low", "mid"]}
    assert cli("predict", run_dir).exit_code == 0
    header = (run_dir / "predictions.csv").read_text().splitlines()[0]
    assert header == "kind.label,kind.p_high,kind.p_low,kind.p_mid,value"


def test_target_shape_mismatch_is_an_error_before_fit(cli, workdir):
    text = (
        (CONFIGS / "multihead.yaml")
        .read_text()
        .replace("y: {kind: kind, value: value}", "y: {kind: kind, value: [f1, f2, f3]}")
        .replace("x: [f1, f2, f3, f4, f5, f6, f7, f8]", "x: [f4, f5, f6, f7, f8]")  # no target leak
    )
    path = write_config(workdir, text, "multihead.yaml")
    result = cli("train", path, "--quiet")
    assert result.exit_code == 2
    assert (
        "multihead.yaml:13:21: data.train.y.value: targets of output 'value' have shape [3] per sample, "
        "but the output produces [1] and 'mse' compares them element by element"
    ) in result.output
    assert not (workdir / "runs").exists()


def test_call_arguments_that_are_not_tensors(workdir):
    model = build_text(
        workdir,
        """model:
  inputs: {seq: {shape: [5, 4]}}
  layers:
    - {name: att, type: MultiHeadAttention, num_heads: 1, key_dim: 2, inputs: {query: seq, value: seq},
       call: {use_causal_mask: true}}
""",
    )
    seq = np.random.default_rng(0).normal(size=(1, 5, 4)).astype("float32")
    layer = model.get_layer("att")
    causal = layer(seq, seq, use_causal_mask=True)
    assert np.allclose(model.predict(seq, verbose=0), causal, atol=1e-5)
    assert not np.allclose(layer(seq, seq), causal, atol=1e-3)  # the flag changes the result


def test_indexed_outputs_feed_keyword_lists(workdir):
    """Keras' seq2seq guide: encoder LSTM states become the decoder's initial_state."""
    model = build_text(
        workdir,
        """model:
  inputs: {enc_in: {shape: [null, 4]}, dec_in: {shape: [null, 3]}}
  layers:
    - {name: enc, type: LSTM, units: 8, return_state: true, inputs: enc_in}
    - {name: dec, type: LSTM, units: 8, return_sequences: true, inputs: {sequences: dec_in, initial_state: [enc/1, enc/2]}}
    - {name: out, type: Dense, units: 3, activation: softmax}
""",
    )
    enc_in, dec_in = keras.Input((None, 4)), keras.Input((None, 3))
    _, h, c = L.LSTM(8, return_state=True)(enc_in)
    out = L.Dense(3, activation="softmax")(L.LSTM(8, return_sequences=True)(dec_in, initial_state=[h, c]))
    plain = keras.Model([enc_in, dec_in], out)
    assert model.count_params() == plain.count_params()
    assert tuple(model.output.shape) == (None, None, 3)
    x = {"enc_in": np.ones((2, 5, 4), "float32"), "dec_in": np.ones((2, 6, 3), "float32")}
    assert model.predict(x, verbose=0).shape == (2, 6, 3)


def test_index_of_a_single_output_is_an_error(workdir):
    from kerascli.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        build_text(
            workdir,
            "model:\n  inputs: {x: {shape: [4]}}\n  layers:\n"
            "    - {name: h, type: Dense, units: 2, inputs: x}\n    - {type: Dense, units: 1, inputs: h/1}\n",
        )
    assert (
        "config.yaml:7:31: model.layers[1].inputs: 'h' has a single output; write 'h' without /1"
        in info.value.lines()[0]
    )


def test_a_repeat_given_by_a_block_parameter_is_bounded(workdir):
    from kerascli.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        build_text(
            workdir,
            """blocks:
  stack:
    params: {depth: 1}
    layers:
      - {name: d, type: Dense, units: 2, repeat: $depth}
model:
  layers:
    - {name: s, type: stack, depth: 1000000000}
""",
        )
    assert caught.value.lines()[0].endswith(
        "blocks.stack.layers[0].repeat: in 's' (model.layers[0], line 10): "
        "expected at most 1000 (the layers this node stacks), got 1000000000"
    )
