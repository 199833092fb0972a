"""Tests for kerascli.engine.jax_conv (few-tap convolutions as a sum of shifted slices, on JAX)."""

import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="kerascli-keras-home-"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

jax = pytest.importorskip("jax")
keras = pytest.importorskip("keras")

if keras.backend.backend() != "jax":  # pragma: no cover
    pytest.skip("jax_conv tests need the JAX backend", allow_module_level=True)

import jax.numpy as jnp  # noqa: E402
from keras.src.backend.jax import nn as jax_nn  # noqa: E402

from kerascli.engine import jax_conv  # noqa: E402

ORIGINAL_CONV = jax_nn.conv


@pytest.fixture(autouse=True)
def _clean_state(monkeypatch):
    monkeypatch.delenv(jax_conv.ENV_VAR, raising=False)
    jax_conv.disable()
    jax_conv.reset_counts()
    yield
    jax_conv.disable()
    jax_conv.reset_counts()
    assert jax_nn.conv is ORIGINAL_CONV


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


LAYERS = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}

# (rank, input shape, layer kwargs)
APPLICABLE = [
    (2, (4, 28, 28, 1), dict(filters=32, kernel_size=3)),  # the small CNN's first layer
    (2, (4, 12, 12, 3), dict(filters=8, kernel_size=3)),  # RGB: 27 taps
    (2, (4, 12, 10, 1), dict(filters=5, kernel_size=(5, 3), padding="same")),
    (2, (4, 9, 9, 2), dict(filters=4, kernel_size=2, padding="same")),  # even kernel: lax pads (0, 1)
    (1, (4, 20, 1), dict(filters=6, kernel_size=5)),
    (1, (4, 20, 4), dict(filters=6, kernel_size=3, padding="same")),
    (3, (2, 6, 6, 6, 1), dict(filters=4, kernel_size=3)),
]

NOT_APPLICABLE = [
    (2, (4, 13, 13, 32), dict(filters=64, kernel_size=3)),  # 288 taps: XLA's conv is faster
    (2, (4, 12, 12, 1), dict(filters=8, kernel_size=3, strides=2)),
    (2, (4, 12, 12, 1), dict(filters=8, kernel_size=3, dilation_rate=2)),
    (2, (4, 1, 12, 12), dict(filters=8, kernel_size=3, data_format="channels_first")),
    (2, (4, 12, 12, 4), dict(filters=8, kernel_size=3, groups=2)),
]


def _ids(cases):
    return [f"{r}d-{shape}-{kw}" for r, shape, kw in cases]


def _layer(rank, shape, kwargs, seed=1):
    keras.utils.set_random_seed(seed)
    layer = LAYERS[rank](**kwargs)
    layer.build(shape)
    return layer


def _loss_and_grads(layer, x, upstream, fast):
    """Output, kernel gradient and input gradient of `sum(conv(x) * upstream)`, with the lowering on or off."""
    if fast:
        assert jax_conv.enable() is True
    else:
        jax_conv.disable()
    kernel = layer.kernel.value

    def apply(x, kernel):
        return layer.convolution_op(x, kernel)

    out, vjp = jax.vjp(jax.jit(apply), jnp.asarray(x), kernel)
    dx, dk = vjp(jnp.asarray(upstream))
    return np.asarray(out), np.asarray(dk), np.asarray(dx)


def _assert_close_to_float32_rounding(got, want):
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("rank,shape,kwargs", APPLICABLE, ids=_ids(APPLICABLE))
def test_output_and_gradients_match_keras(rank, shape, kwargs):
    layer = _layer(rank, shape, kwargs)
    x = _rand(shape)
    out_shape = layer.compute_output_shape(shape)
    upstream = _rand(out_shape, seed=2)
    ref = _loss_and_grads(layer, x, upstream, fast=False)
    assert jax_conv.call_counts()["fast"] == 0
    got = _loss_and_grads(layer, x, upstream, fast=True)
    assert jax_conv.call_counts() == {"fast": 1, "fallback": 0}
    assert got[0].shape == ref[0].shape == tuple(out_shape)
    _assert_close_to_float32_rounding(got[0], ref[0])  # forward: the same products, summed in another order
    _assert_close_to_float32_rounding(got[1], ref[1])  # kernel gradient: likewise
    if kwargs.get("padding", "valid") == "valid":
        np.testing.assert_array_equal(got[2], ref[2])  # input gradient: Keras' own computation
    else:
        _assert_close_to_float32_rounding(got[2], ref[2])  # through the explicit pad


@pytest.mark.parametrize("rank,shape,kwargs", NOT_APPLICABLE, ids=_ids(NOT_APPLICABLE))
def test_other_convolutions_run_keras_own_op(rank, shape, kwargs):
    layer = _layer(rank, shape, kwargs)
    x = _rand(shape)
    upstream = _rand(layer.compute_output_shape(shape), seed=2)
    ref = _loss_and_grads(layer, x, upstream, fast=False)
    got = _loss_and_grads(layer, x, upstream, fast=True)
    assert jax_conv.call_counts()["fast"] == 0
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_convolutions_run_keras_own_op(dtype):
    # mixed precision: a tap sum in half precision would round at every tap
    x = jnp.asarray(_rand((4, 12, 12, 1)), dtype=dtype)
    kernel = jnp.asarray(_rand((3, 3, 1, 8), seed=2), dtype=dtype)
    assert jax_conv.enable() is True
    out = jax_nn.conv(x, kernel)
    assert jax_conv.call_counts() == {"fast": 0, "fallback": 1}
    np.testing.assert_array_equal(
        np.asarray(out, dtype="float32"), np.asarray(ORIGINAL_CONV(x, kernel), dtype="float32")
    )


def test_empty_output_still_raises_keras_error():
    jax_conv.enable()
    with pytest.raises(ValueError, match="empty output"):
        keras.ops.conv(jnp.ones((1, 2, 2, 1)), jnp.ones((3, 3, 1, 4)))
    assert jax_conv.call_counts() == {"fast": 0, "fallback": 1}


def _train_tiny(fast, seed=0):
    if fast:
        assert jax_conv.enable() is True
    else:
        jax_conv.disable()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((10, 10, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(seed)
    x = rng.random((16, 10, 10, 1), dtype=np.float32)
    y = rng.integers(0, 3, size=(16,))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)  # 2 steps
    return model, [np.asarray(w) for w in model.get_weights()]


def test_training_matches_keras_to_float32_rounding():
    _, w_ref = _train_tiny(fast=False)
    _, w_fast = _train_tiny(fast=True)
    assert jax_conv.call_counts()["fast"] >= 1  # the fit path hit the lowering
    for a, b in zip(w_ref, w_fast):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_seeded_training_is_bit_identical_run_to_run():
    _, first = _train_tiny(fast=True, seed=7)
    _, second = _train_tiny(fast=True, seed=7)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_saved_model_is_standard(tmp_path):
    model, _ = _train_tiny(fast=True)
    path = tmp_path / "m.keras"
    model.save(path)
    x = _rand((4, 10, 10, 1), seed=5)
    pred_fast = model.predict(x, verbose=0)
    jax_conv.disable()
    loaded = keras.models.load_model(path)
    assert type(loaded.layers[0]) is keras.layers.Conv2D
    np.testing.assert_allclose(loaded.predict(x, verbose=0), pred_fast, atol=1e-6)


def test_enable_disable_restore_and_env_switch(monkeypatch):
    assert jax_conv.enable() is True
    patched = jax_nn.conv
    assert patched is not ORIGINAL_CONV
    assert keras.src.backend.nn.conv is patched  # what keras.ops calls
    assert jax_conv.enable() is True and jax_nn.conv is patched  # not wrapped twice
    monkeypatch.setenv(jax_conv.ENV_VAR, "0")
    assert jax_conv.enable() is False  # the switch removes the earlier patch
    assert jax_nn.conv is ORIGINAL_CONV
    assert keras.src.backend.nn.conv is ORIGINAL_CONV
    assert jax_conv.disable() is False


def test_config_switch_turns_the_lowering_on_and_off(monkeypatch):
    from kerascli.engine import jax_pool, speed

    try:
        assert speed.fast_pool(True) is True
        assert jax_conv.is_enabled() and jax_nn.conv is not ORIGINAL_CONV
        assert speed.fast_pool(False) is False
        assert not jax_conv.is_enabled() and jax_nn.conv is ORIGINAL_CONV
        monkeypatch.setenv(jax_conv.ENV_VAR, "0")
        assert speed.fast_pool(True) is True  # the max pool stays on
        assert not jax_conv.is_enabled()
    finally:
        jax_pool.disable()
