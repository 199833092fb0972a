"""What `kerascli summary` reports: the layers of a built model and their parameters.

`describe` turns a `keras.Model` into plain data (for `--json` and for the
rich table the CLI draws): one row per top-level layer with its type, output
shape and parameter count, and the model's totals. A block instance is one
row, typed by its block name; a layer called several times (`share`) is one
row, its weights counted once, as Keras counts them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _size(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _shape(tensor) -> Any:
    if isinstance(tensor, dict):
        return {k: _shape(v) for k, v in tensor.items()}
    if isinstance(tensor, (list, tuple)) and not hasattr(tensor, "shape"):
        return [_shape(t) for t in tensor]
    return list(tensor.shape)


def describe(model, block_of: dict[str, str] | None = None) -> dict[str, Any]:
    """The layers and parameter counts of `model` as plain data.

    Args:
        model: a built `keras.Model`.
        block_of: layer name → block name for block instances.

    Returns:
        `{"name", "layers": [{"name", "type", "output_shape", "params",
        "calls"}], "total_params", "trainable_params", "non_trainable_params"}`;
        `output_shape` has None for the batch axis; `calls` is how many times
        the layer is applied (2 or more for a shared layer).
    """
    block_of = block_of or {}
    layers = []
    for layer in model.layers:
        calls = len(getattr(layer, "_inbound_nodes", []) or [])
        try:
            shape = _shape(layer.output)
        except Exception:  # noqa: BLE001 - a layer Keras cannot describe
            shape = None
        layers.append(
            {
                "name": layer.name,
                "type": block_of.get(layer.name, type(layer).__name__),
                "output_shape": shape,
                "params": _size(layer.weights),
                "calls": calls,
            }
        )
    trainable = _size(model.trainable_weights)
    total = _size(model.weights)
    return {
        "name": model.name,
        "layers": layers,
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
    }
