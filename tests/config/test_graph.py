"""Graph and block errors found by `validate` (no Keras): each with its line:col."""

import pytest
from conftest import write_config

from kerascli.config import graph

HEAD = "data:\n  train: {path: data/two_branch.csv, x: {a: [a1, a2], b: [b1]}, y: label}\n"
INPUTS = "model:\n  inputs: {a: {shape: [2]}, b: {shape: [1]}}\n  layers:\n"


def problems(cli, workdir, text):
    result = cli("validate", write_config(workdir, text))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize(
    "layers, expected",
    [
        (
            "    - {name: h, type: Dense, units: 4, inputs: a}\n    - {name: j, type: Concatenate, inputs: [h, bb]}\n",
            "config.yaml:7:48: model.layers[1].inputs[1]: unknown input 'bb': no input or node has that name (did you mean 'b'?)",
        ),
        (
            "    - {name: x, type: Dense, units: 4, inputs: y}\n    - {name: y, type: Dense, units: 4, inputs: x}\n",
            "config.yaml:6:40: model.layers[0].inputs: cycle in the graph: x -> y -> x",
        ),
        (
            "    - {name: h, type: Dense, units: 4, inputs: a}\n    - {name: h, type: Dense, units: 4, inputs: b}\n",
            "config.yaml:7:8: model.layers[1].name: duplicate node name 'h' (also model.layers[0])",
        ),
        (
            "    - {name: h, type: Dense, units: 4, inputs: []}\n",
            "config.yaml:6:40: model.layers[0].inputs: 'inputs' is empty: the node has nothing to read",
        ),
        (
            "    - {name: h, type: Dense, units: 4, inputs: [a]}\n    - {name: o, type: Dense, units: 1, inputs: {query: hh}}\n",
            "config.yaml:7:49: model.layers[1].inputs.query: unknown input 'hh': no input or node has that name (did you mean 'h'?)",
        ),
        (
            "    - {name: h, type: Dense, units: 4, inputs: a}\n  outputs: [h, hidden]\n",
            "config.yaml:7:16: model.outputs[1]: unknown output 'hidden': no node has that name",
        ),
        (
            "    - {name: h, type: Dense, units: 4, inputs: a, repeat: 2}\n    - {name: h_2, type: Dense, units: 4}\n",
            "config.yaml:6:51: model.layers[0].repeat: repeat: 2 names layers h_1..2, but 'h_2' is also the name of model.layers[1]",
        ),
        (
            "    - {name: h, type: Dense, units: 4, inputs: a, repeat: 0}\n",
            "config.yaml:6:51: model.layers[0].repeat: expected a positive integer or a block parameter ($name), got 0",
        ),
    ],
    ids=[
        "unknown-input",
        "cycle",
        "duplicate",
        "empty-inputs",
        "keyword-input",
        "unknown-output",
        "repeat-clash",
        "repeat-zero",
    ],
)
def test_graph_errors(cli, workdir, layers, expected):
    assert expected in problems(cli, workdir, HEAD + INPUTS + layers)


@pytest.mark.parametrize(
    "node, expected",
    [
        (
            "{name: e2, share: encoder, inputs: b, units: 3}",
            "model.layers[1]: a node that shares the layer of 'encoder' takes no constructor arguments (got units); they come from 'encoder'",
        ),
        (
            "{name: e2, share: encoder, type: Dense, inputs: b}",
            "model.layers[1]: give either 'type' (a new layer) or 'share' (reuse another node's layer), not both",
        ),
        (
            "{name: e2, share: encodr, inputs: b}",
            "config.yaml:7:18: model.layers[1].share: unknown node 'encodr': no node has that name (did you mean 'encoder'?)",
        ),
    ],
    ids=["kwargs", "type-and-share", "unknown-target"],
)
def test_shared_layer_errors(cli, workdir, node, expected):
    text = HEAD + INPUTS + f"    - {{name: encoder, type: Dense, units: 4, inputs: a}}\n    - {node}\n"
    assert expected in problems(cli, workdir, text)


BLOCKS = """blocks:
  conv:
    params: {filters: 8, act: relu}
    layers:
      - {type: Dense, units: $filtres, activation: $act}
  pair:
    inputs: [left, right]
    layers:
      - {type: Concatenate, inputs: [left, rigth]}
  loop_a:
    layers:
      - {type: loop_b}
  loop_b:
    layers:
      - {type: loop_a}
  Dense:
    layers:
      - {type: Dense, units: 2}
model:
  inputs: {a: {shape: [2]}, b: {shape: [1]}}
  layers:
    - {name: c, type: conv, filter: 4, inputs: a}
    - {type: pair, inputs: c}
    - {type: Dense, units: $n}
    - {type: conv, units: 2}
    - {type: convv}
"""


@pytest.mark.parametrize(
    "expected",
    [
        "config.yaml:7:23: blocks.conv.layers[0].units: unknown parameter '$filtres' (did you mean '$filters'?)",
        "config.yaml:11:44: blocks.pair.layers[0].inputs[1]: unknown input 'rigth': no input or node has that name (did you mean 'right'?)",
        "config.yaml:12:3: blocks.loop_a: block uses itself: loop_a -> loop_b -> loop_a",
        "config.yaml:18:3: blocks.Dense: block name 'Dense' is already a Keras layer; choose another name",
        "config.yaml:24:29: model.layers[0].filter: unknown parameter 'filter' of block 'conv' (did you mean 'filters'?)",
        "config.yaml:25:20: model.layers[1].inputs: block 'pair': the block takes 2 inputs (left, right); give them as a list or a mapping",
        "config.yaml:26:21: model.layers[2].units: '$n' is a block parameter, but this node is not inside a block",
        "config.yaml:27:20: model.layers[3].units: unknown parameter 'units' of block 'conv'; its parameters are: filters, act",
        "config.yaml:28:8: model.layers[4].type: unknown layer 'convv' (did you mean 'conv'?)",
    ],
    ids=[
        "param-typo",
        "block-input",
        "block-cycle",
        "shadows-keras",
        "instance-param",
        "block-arity",
        "param-outside",
        "unknown-param",
        "type-typo",
    ],
)
def test_block_errors_are_all_reported(cli, workdir, expected):
    output = problems(cli, workdir, HEAD + BLOCKS)
    assert expected in output
    assert "Dense -> Dense" not in output  # a block shadowing a layer does not make Dense nodes blocks


def test_unused_node_and_input_are_warnings_on_stderr(cli, workdir):
    path = write_config(
        workdir,
        HEAD + INPUTS + "    - {name: h, type: Dense, units: 4, inputs: a}\n"
        "    - {name: dead, type: Dense, units: 4, inputs: b}\n"
        "    - {name: out, type: Dense, units: 1, inputs: h}\n  outputs: out\n",
    )
    result = cli("validate", path)
    assert result.exit_code == 0, result.output
    assert (
        "config.yaml:7:7: model.layers[1]: warning: node 'dead' feeds no output of the model: its result is unused"
        in result.stderr
    )
    assert "model.inputs.b: warning: model input 'b' is used by no output" in result.stderr
    assert "warning" not in result.stdout


def test_output_depending_on_no_input_is_an_error(cli, workdir):
    text = (
        HEAD + INPUTS + "    - {name: h, type: Dense, units: 4, inputs: a}\n"
        "    - {name: free, type: Dense, units: 4, inputs: []}\n"
        "    - {name: out, type: Dense, units: 1, inputs: free}\n  outputs: [h, out]\n"
    )
    assert "config.yaml:8:7: model.layers[2]: output 'out' depends on no model input" in problems(cli, workdir, text)


def test_build_order_follows_inputs_and_finds_cycles():
    assert graph.build_order([[1], [2], []]) == [2, 1, 0]
    with pytest.raises(graph.CycleError) as info:
        graph.build_order([[], [2], [1]])
    assert info.value.cycle == [1, 2, 1]
