"""Blocks: parameterised sub-graphs, without Keras.

A block (`blocks: {inception: {params: {...}, layers: [...]}}`) is used like
a layer: `{type: inception, f3: 96}`. This module holds the rules both the
checks and the builder follow: how `$param` values are found and replaced,
which parameters an instance gets, how the caller's `inputs` bind to the
block's declared inputs, and which blocks use which (no block may use
itself, directly or through others).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from kerascli.config.document import Key

PARAM_REF = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")


def param_name(value: Any) -> str | None:
    """`"$filters"` → `"filters"`; anything else → None."""
    if isinstance(value, str):
        match = PARAM_REF.match(value)
        if match:
            return match.group(1)
    return None


def param_refs(value: Any, key: Key = ()) -> list[tuple[str, Key]]:
    """Every `$param` inside `value` (nested lists and mappings too), with its path."""
    name = param_name(value)
    if name is not None:
        return [(name, key)]
    found: list[tuple[str, Key]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += param_refs(v, key + (k,))
    elif isinstance(value, list):
        for j, v in enumerate(value):
            found += param_refs(v, key + (j,))
    return found


def substitute(value: Any, params: dict[str, Any]) -> Any:
    """`value` with every `$param` replaced by its value in `params`.

    A whole string `$name` is replaced by the parameter's value, keeping its
    type (`filters: $f` becomes `filters: 64`). Unknown names stay as they
    are; the checks report them.
    """
    name = param_name(value)
    if name is not None:
        return params.get(name, value)
    if isinstance(value, dict):
        return {k: substitute(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, params) for v in value]
    return value


def instance_params(
    block: str, defaults: dict[str, Any], given: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The parameters of one block instance: the defaults, overridden by `given`.

    Returns:
        `(params, problems)`: problems are `(param, message)` for names the
        block does not declare.
    """
    problems = []
    for name in given:
        if name not in defaults:
            hint = difflib.get_close_matches(str(name), list(defaults), n=1, cutoff=0.6)
            declared = ", ".join(defaults) or "none"
            message = f"unknown parameter '{name}' of block '{block}'" + (
                f" (did you mean '{hint[0]}'?)" if hint else f"; its parameters are: {declared}"
            )
            problems.append((name, message))
    return {**defaults, **{k: v for k, v in given.items() if k in defaults}}, problems


def bind_inputs(
    block_inputs: list[str], inputs: Any, default: str | None
) -> tuple[list[tuple[str, str, Key]], str | None]:
    """Binds a block call's `inputs` to the block's declared inputs.

    Args:
        block_inputs: the names the block declares (`[in]` by default).
        inputs: the caller's `inputs` value (None, a name, a list or a mapping).
        default: what a node without `inputs` reads (the previous node).

    Returns:
        `(bindings, error)`: bindings are `(block_input, caller_name, key)`
        in the block's order; error is a message when they do not fit.
    """
    declared = ", ".join(block_inputs)
    if inputs is None or isinstance(inputs, str):
        if len(block_inputs) != 1:
            return [], f"the block takes {len(block_inputs)} inputs ({declared}); give them as a list or a mapping"
        if inputs is None:
            return ([(block_inputs[0], default, ())] if default else []), None
        return [(block_inputs[0], inputs, ("inputs",))], None
    if isinstance(inputs, list):
        if len(inputs) != len(block_inputs):
            return [], f"the block takes {len(block_inputs)} input(s) ({declared}), got {len(inputs)}"
        return [(b, v, ("inputs", j)) for j, (b, v) in enumerate(zip(block_inputs, inputs))], None
    if isinstance(inputs, dict):
        unknown = [k for k in inputs if k not in block_inputs]
        missing = [b for b in block_inputs if b not in inputs]
        if unknown or missing:
            parts = []
            if unknown:
                parts.append(f"unknown input(s) {', '.join(map(repr, unknown))}")
            if missing:
                parts.append(f"missing input(s) {', '.join(map(repr, missing))}")
            return [], f"{'; '.join(parts)}; the block's inputs are: {declared}"
        return [(b, inputs[b], ("inputs", b)) for b in block_inputs], None
    return [], None


def used_blocks(layers: Any, names: set[str]) -> list[str]:
    """The block names that the node list `layers` uses as a type."""
    found = []
    if isinstance(layers, list):
        for node in layers:
            if isinstance(node, dict) and node.get("type") in names and node["type"] not in found:
                found.append(node["type"])
    return found


def block_cycle(blocks: dict[str, Any]) -> list[str] | None:
    """A chain of blocks that uses itself (`a -> b -> a`), or None.

    Args:
        blocks: the raw `blocks:` mapping (block name → definition).
    """
    names = set(blocks)
    uses = {b: used_blocks(d.get("layers") if isinstance(d, dict) else None, names) for b, d in blocks.items()}
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> list[str] | None:
        if state.get(name) == 2:
            return None
        if state.get(name) == 1:
            return path[path.index(name) :] + [name]
        state[name] = 1
        for other in uses[name]:
            found = visit(other, path + [name])
            if found:
                return found
        state[name] = 2
        return None

    for name in blocks:
        found = visit(name, [])
        if found:
            return found
    return None


def instance_blocks(layers: list, names: list[str], block_names: set[str]) -> dict[str, str]:
    """Layer name → block name for the block instances a node list makes.

    A repeated instance `res` (`repeat: 3`) makes layers `res_1..3`. Used to
    label nested models in `kerascli summary`.
    """
    out = {}
    for node, name in zip(layers, names):
        block = getattr(node, "type", None)
        if block in block_names:
            repeat = node.repeat if isinstance(node.repeat, int) else 1
            for r in range(repeat):
                out[name if repeat == 1 else f"{name}_{r + 1}"] = block
    return out
