"""Initializers of one form are replayed once for all their variables and still draw Keras' own weights."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from kerascli.engine import grouped_replay, initialization
from kerascli.engine.keras_import import load_keras

keras = load_keras()
L = keras.layers


def jaxpr_of(initializer, shape, dtype="float32"):
    return jax.make_jaxpr(lambda: keras.initializers.get(initializer)(shape, dtype=dtype))().jaxpr


def test_zeros_and_ones_of_any_shape_have_one_form_per_dtype():
    shapes = [(3, 3, 1, 8), (16,), (2, 5), (7,)]
    assert len({grouped_replay.form(jaxpr_of("zeros", s)) for s in shapes}) == 1
    assert grouped_replay.form(jaxpr_of("zeros", (4,))) == grouped_replay.form(jaxpr_of("ones", (2, 5)))
    assert grouped_replay.form(jaxpr_of("zeros", (4,), "bfloat16")) != grouped_replay.form(jaxpr_of("zeros", (4,)))


@pytest.mark.parametrize(
    "initializer, shape",
    [
        ("glorot_uniform", (3, 4)),
        ("truncated_normal", (3, 4)),
        ("orthogonal", (4, 4)),
        (keras.initializers.Constant(0.3), (4,)),  # Keras multiplies ones by the value
        ("zeros", (1, 1)),
        (keras.initializers.Identity(), (3, 3)),
    ],
    ids=["random draw", "arithmetic on the draw", "qr", "arithmetic on a constant", "one element", "an eye"],
)
def test_draws_arithmetic_and_what_is_not_elementwise_replay_alone(initializer, shape):
    assert grouped_replay.form(jaxpr_of(initializer, shape)) is None


def grouped_model() -> keras.Model:
    """Several variables of each form, on different shapes and dtypes."""
    inputs = keras.Input((6, 6, 2))
    x = L.Conv2D(4, 3, kernel_initializer="he_uniform")(inputs)
    x = L.BatchNormalization()(L.Conv2D(5, 1, kernel_initializer="he_uniform")(x))
    x = L.DepthwiseConv2D(2, depthwise_initializer="truncated_normal")(x)
    x = L.Flatten()(x)
    heads = [L.Dense(n, kernel_initializer="truncated_normal", bias_initializer="ones")(x) for n in (3, 7)]
    half = L.Dense(2, dtype="bfloat16", bias_initializer=keras.initializers.Constant(0.3))(x)
    joined = L.Concatenate()([*heads, L.Activation("linear", dtype="float32")(half)])
    return keras.Model(inputs, L.Dense(2, bias_initializer=keras.initializers.Constant(0.3))(joined))


def weights_of(build, seed: int) -> list[np.ndarray]:
    keras.utils.set_random_seed(seed)
    return [np.asarray(v) for v in build().weights]


def deferred() -> keras.Model:
    with initialization.deferred_initialization():
        return grouped_model()


def test_grouped_draws_are_the_weights_plain_keras_draws(monkeypatch):
    groups = []
    real_groups = initialization._groups

    def recording_groups(jaxprs):
        found = real_groups(jaxprs)
        groups.extend(found)
        return found

    monkeypatch.setattr(initialization, "_groups", recording_groups)
    for seed in (3, 2024):
        groups.clear()
        plain, fast = weights_of(grouped_model, seed), weights_of(deferred, seed)
        assert [w.dtype for w in fast] == [w.dtype for w in plain]
        assert [w.shape for w in fast] == [w.shape for w in plain]
        assert all(a.tobytes() == b.tobytes() for a, b in zip(fast, plain))
    assert max(len(members) for members in groups) >= 6  # BN's zeros and ones and the biases of ones, together
    assert all(len(members) == 1 for members in groups if len(members) < 6)  # every random draw alone
