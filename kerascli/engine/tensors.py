"""Names of Keras symbolic tensors, as kerascli keys data by them."""

from __future__ import annotations


def tensor_name(tensor) -> str:
    """The name of a model input or output tensor without its `:index` suffix (TensorFlow adds one)."""
    return tensor.name.split(":")[0]
