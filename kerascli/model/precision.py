"""`dtype_policy:`: the whole model under one Keras dtype policy, outputs kept float32.

`dtype_policy: mixed_bfloat16` does what `keras.config.set_dtype_policy`
does in a script: every layer built afterwards computes in bfloat16 and keeps
its variables in float32. As the Keras mixed-precision guide advises, the
model's outputs stay float32: an output node that is a plain layer without
its own `dtype` is built with `dtype: float32` (so a softmax runs in float32);
an output that is a block or an application cannot be, and gets a warning.
`mixed_float16` gets Keras' loss scaling: `compile()` wraps the optimizer in
a `LossScaleOptimizer` by itself for such a model (`auto_scale_loss`).

The policy is global in Keras, so `use_policy` restores the previous one when
the command is done.
"""

from __future__ import annotations

import contextlib

from kerascli.engine.keras_import import load_keras

keras = load_keras()

FULL = "float32"


@contextlib.contextmanager
def use_policy(name: str | None):
    """Sets Keras' global dtype policy to `name` (None: leave it) for the `with` block."""
    if name is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def mixed() -> bool:
    """Whether layers built now compute in less than float32."""
    return keras.config.dtype_policy().compute_dtype != FULL


def output_warnings(model, output_names: list[str]) -> list[str]:
    """One message per model output that is not float32 (a block or application output)."""
    outputs = model.output if isinstance(model.output, dict) else {output_names[0]: model.output}
    policy = keras.config.dtype_policy().name
    return [
        f"output '{name}' computes in {tensor.dtype} under dtype_policy {policy}: losses and softmax are less "
        f"precise; end the model with a plain layer (e.g. {{type: Activation, activation: linear}}) to keep it float32"
        for name, tensor in outputs.items()
        if str(tensor.dtype) != FULL
    ]


def layer_policies(model) -> list[tuple[str, str]]:
    """`(layer path, dtype policy name)` for every layer, nested ones included."""
    from kerascli.model.freezing import walk

    return [(path, layer.dtype_policy.name) for path, layer in walk(model)]
