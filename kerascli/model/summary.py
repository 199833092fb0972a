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


def describe(model, block_of: dict[str, str] | None = None, expand: bool = False) -> dict[str, Any]:
    """The layers and parameter counts of `model` as plain data.

    Args:
        model: a built `keras.Model`.
        block_of: layer name → block or application name for nested models.
        expand: also list the layers inside nested models (block instances,
            applications), each after its model, with `depth` > 0.

    Returns:
        `{"name", "layers": [{"name", "type", "output_shape", "params",
        "calls", "trainable", "dtype_policy", "depth"}], "total_params",
        "trainable_params", "non_trainable_params"}`; `output_shape` has None
        for the batch axis; `calls` is how many times the layer is applied (2
        or more for a shared layer); a nested layer's `name` is its path
        (`backbone/Conv1`).
    """
    block_of = block_of or {}
    layers: list[dict] = []
    _rows(model, block_of, expand, "", 0, layers)
    trainable = _size(model.trainable_weights)
    total = _size(model.weights)
    return {
        "name": model.name,
        "layers": layers,
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
    }


def _rows(model, block_of: dict, expand: bool, prefix: str, depth: int, rows: list) -> None:
    # `operations`: the layers and the Keras ops called on tensors (an application's preprocess_input).
    for layer in getattr(model, "operations", None) or model.layers:
        if depth and type(layer).__name__ == "InputLayer":
            continue
        calls = len(getattr(layer, "_inbound_nodes", []) or [])
        try:
            shape = _shape(layer.output)
        except Exception:  # noqa: BLE001 - a layer Keras cannot describe
            shape = None
        rows.append(
            {
                "name": prefix + layer.name,
                "type": block_of.get(layer.name, type(layer).__name__) if not depth else type(layer).__name__,
                "output_shape": shape,
                "params": _size(getattr(layer, "weights", [])),
                "calls": calls,
                "trainable": _trains(layer),
                "dtype_policy": layer.dtype_policy.name if hasattr(layer, "dtype_policy") else None,
                "depth": depth,
            }
        )
        if expand and hasattr(layer, "layers") and getattr(layer, "layers", None):
            _rows(layer, block_of, expand, f"{prefix}{layer.name}/", depth + 1, rows)


def _trains(layer) -> bool:
    """Whether the layer trains (or has nothing to train): False for a frozen layer with weights."""
    if not getattr(layer, "weights", None):
        return True
    return bool(layer.trainable) and _size(layer.trainable_weights) > 0
