"""A node whose `type` is a block → nested functional `keras.Model`s, one per instance.

The block's nodes are built by the same graph builder as the model's
(`kerascli.model.functional`), with the instance's `$param` values filled in;
blocks may use blocks. `repeat: N` makes N instances, chained. An error inside
a block points at the block's own line and names the instance it was built
for.
"""

from __future__ import annotations

from typing import Any

from kerascli.config import blocks as block_rules
from kerascli.config.document import Key, format_key
from kerascli.config.spec import BlockSpec, Node
from kerascli.engine.keras_import import load_keras
from kerascli.errors import ConfigError, Problem
from kerascli.model.objects import clean

keras = load_keras()


def build(builder, node: Node, name: str, key: Key, args: tuple[str, Any], params) -> list:
    """The nested models of a block node (`repeat` makes several, chained).

    Args:
        builder: the graph builder of the graph the node is in (it builds the
            block's own nodes too).
        node: the block node.
        name: the node's name (the instances are named after it).
        key: the node's key in the config.
        args: what the node is called with, as `(form, value)`: a tensor,
            a list of tensors, or keyword tensors.
        params: the parameters of the block instance this node is in, or None.

    Returns:
        The instances, each a `keras.Model`, in the order they are called.
    """
    block = builder.blocks[node.type]
    repeat = builder.repeat(node, key, params)
    given = builder.kwargs(node, key, params)
    values, problems = block_rules.instance_params(node.type, block.params, given)
    if problems:
        raise ConfigError([builder.doc.problem(key + (p,), m) for p, m in problems])
    if repeat > 1 and len(block.inputs) > 1:
        builder.fail(
            key + ("repeat",),
            f"block '{node.type}' takes {len(block.inputs)} inputs; only a one-input block can be repeated",
        )
    models, current = [], _first_inputs(builder, node, block, key, args)
    for r in range(repeat):
        instance = name if repeat == 1 else f"{name}_{r + 1}"
        model = _instance(builder, node.type, block, instance, values, current, key)
        models.append(model)
        if r + 1 < repeat:
            current = [model.output]
    return models


def _first_inputs(builder, node: Node, block: BlockSpec, key: Key, args: tuple[str, Any]) -> list:
    """The tensors the first instance reads, in the order of the block's inputs."""
    form, value = args
    if form == "kwargs":
        bindings, error = block_rules.bind_inputs(block.inputs, node.inputs, None)
        if error:
            builder.fail(key + ("inputs",), f"block '{node.type}': {error}")
        first = [value[b] for b, _, _ in bindings]
    else:
        first = value if form == "list" else [value]
    if len(first) != len(block.inputs):
        builder.fail(
            key + ("inputs",),
            f"block '{node.type}' takes {len(block.inputs)} input(s) ({', '.join(block.inputs)}), got {len(first)}",
        )
    return first


def _instance(builder, block_name: str, block: BlockSpec, instance: str, params: dict, tensors: list, key: Key):
    """Builds one block instance as a nested functional model."""
    inner = [
        keras.Input(shape=tuple(t.shape[1:]), dtype=t.dtype, name=f"{instance}_{n}")
        for n, t in zip(block.inputs, tensors)
    ]
    prefix = ("blocks", block_name, "layers")
    try:
        outputs = builder.graph(block.layers, block.node_names(), prefix, dict(zip(block.inputs, inner)), params)
    except ConfigError as exc:
        raise ConfigError([_within(builder.doc, p, instance, key) for p in exc.problems]) from None
    out_name = block.output_name()
    if out_name not in outputs or out_name in block.inputs:
        builder.fail(
            ("blocks", block_name, "outputs"), f"unknown output '{out_name}': not a node of block '{block_name}'"
        )
    try:
        return keras.Model(inner[0] if len(inner) == 1 else inner, outputs[out_name], name=instance)
    except Exception as exc:  # noqa: BLE001
        builder.fail(key, f"Keras cannot build block '{block_name}' as '{instance}': {clean(exc)}")


def _within(doc, problem: Problem, instance: str, key: Key) -> Problem:
    """`problem` (inside a block) with the instance it was built for named."""
    loc = doc.locate(key)
    where = f"line {loc.line}" if loc.line else loc.file
    return Problem(
        problem.file,
        problem.line,
        problem.col,
        problem.path,
        f"in '{instance}' ({format_key(key)}, {where}): {problem.message}",
    )
