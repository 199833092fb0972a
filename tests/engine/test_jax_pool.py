"""Tests for kerascli.engine.jax_pool (fast non-overlapping max pooling on JAX)."""

import os
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="kerascli-keras-home-"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

jax = pytest.importorskip("jax")
keras = pytest.importorskip("keras")

if keras.backend.backend() != "jax":  # pragma: no cover
    pytest.skip("jax_pool tests need the JAX backend", allow_module_level=True)

import jax.numpy as jnp  # noqa: E402
from keras.src.backend.jax import nn as jax_nn  # noqa: E402

from kerascli.engine import jax_pool  # noqa: E402

ORIGINAL_MAX_POOL = jax_nn.max_pool
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def _clean_state(monkeypatch):
    monkeypatch.delenv(jax_pool.ENV_VAR, raising=False)
    jax_pool.disable()
    jax_pool.reset_counts()
    yield
    jax_pool.disable()
    jax_pool.reset_counts()
    assert jax_nn.max_pool is ORIGINAL_MAX_POOL


def _rand(shape, seed=0):
    # Continuous random floats: ties inside a pooling window have
    # probability ~0 (and are checked below where it matters).
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


LAYERS = {
    1: keras.layers.MaxPooling1D,
    2: keras.layers.MaxPooling2D,
    3: keras.layers.MaxPooling3D,
}

# (rank, input shape, layer kwargs)
APPLICABLE = [
    (1, (4, 12, 3), dict(pool_size=2)),
    (1, (4, 12, 3), dict(pool_size=3, strides=3, padding="same")),
    (1, (4, 3, 12), dict(pool_size=4, data_format="channels_first")),
    (2, (4, 8, 8, 3), dict(pool_size=2)),
    (2, (4, 26, 26, 32), dict(pool_size=(2, 2), strides=(2, 2))),
    (2, (4, 8, 9, 3), dict(pool_size=(2, 3))),
    (2, (4, 8, 8, 3), dict(pool_size=2, padding="same")),
    (2, (4, 3, 8, 6), dict(pool_size=2, data_format="channels_first")),
    (2, (4, 8, 8, 3), dict(pool_size=1)),
    (3, (2, 4, 6, 8, 3), dict(pool_size=2)),
    (3, (2, 4, 6, 8, 3), dict(pool_size=(2, 3, 4), padding="same")),
    (3, (2, 3, 4, 6, 8), dict(pool_size=(2, 3, 4), data_format="channels_first")),
    # odd maps with valid padding: the trailing rows/columns are cropped
    (2, (4, 7, 7, 3), dict(pool_size=2)),
    (2, (4, 11, 11, 32), dict(pool_size=2)),
    (2, (4, 3, 7, 7), dict(pool_size=2, data_format="channels_first")),
    (3, (2, 4, 6, 7, 3), dict(pool_size=2)),
]

NOT_APPLICABLE = [
    (1, (4, 12, 3), dict(pool_size=3, strides=2)),
    (2, (4, 9, 9, 3), dict(pool_size=3, strides=2)),
    (2, (4, 7, 7, 3), dict(pool_size=2, padding="same")),  # needs padding
    (2, (4, 8, 8, 3), dict(pool_size=2, strides=1)),
    (2, (4, 3, 7, 7), dict(pool_size=2, padding="same", data_format="channels_first")),
    (2, (4, 1, 1, 3), dict(pool_size=2, padding="same")),
]


def _ids(cases):
    return [f"{r}d-{shape}-{kw}" for r, shape, kw in cases]


def _layer_out(rank, kwargs, x, fast, jit=False):
    if fast:
        assert jax_pool.enable() is True
    else:
        jax_pool.disable()
    layer = LAYERS[rank](**kwargs)
    fn = (lambda a: layer(a)) if not jit else jax.jit(lambda a: layer(a))
    return np.asarray(fn(jnp.asarray(x)))


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("rank,shape,kwargs", APPLICABLE, ids=_ids(APPLICABLE))
def test_outputs_equal_and_fast_path_taken(rank, shape, kwargs, jit):
    x = _rand(shape)
    ref = _layer_out(rank, kwargs, x, fast=False, jit=jit)
    assert jax_pool.call_counts()["fast"] == 0
    jax_pool.reset_counts()
    out = _layer_out(rank, kwargs, x, fast=True, jit=jit)
    counts = jax_pool.call_counts()
    assert counts["fast"] >= 1, counts
    assert counts["fallback"] == 0, counts
    assert out.shape == ref.shape
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("rank,shape,kwargs", NOT_APPLICABLE, ids=_ids(NOT_APPLICABLE))
def test_fallback_for_non_applicable(rank, shape, kwargs):
    x = _rand(shape)
    ref = _layer_out(rank, kwargs, x, fast=False)
    jax_pool.reset_counts()
    out = _layer_out(rank, kwargs, x, fast=True, jit=True)
    counts = jax_pool.call_counts()
    assert counts["fast"] == 0, counts
    assert counts["fallback"] >= 1, counts
    np.testing.assert_array_equal(out, ref)


def test_ops_max_pool_also_patched():
    x = jnp.asarray(_rand((2, 8, 8, 3)))
    ref = np.asarray(keras.ops.max_pool(x, 2, strides=2))
    jax_pool.enable()
    out = np.asarray(keras.ops.max_pool(x, 2, strides=2))
    assert jax_pool.call_counts() == {"fast": 1, "fallback": 0}
    np.testing.assert_array_equal(out, ref)


def test_strides_none_keeps_original_behaviour():
    # The layers always pass strides; a direct op call with strides=None goes
    # to the original op (which, in Keras 3.15.1, raises on JAX).
    x = jnp.asarray(_rand((2, 8, 8, 3)))
    try:
        ref = np.asarray(keras.ops.max_pool(x, 2))
    except Exception as exc:  # Keras 3.15.1
        ref = type(exc)
    jax_pool.enable()
    try:
        out = np.asarray(keras.ops.max_pool(x, 2))
    except Exception as exc:
        out = type(exc)
    assert jax_pool.call_counts() == {"fast": 0, "fallback": 1}
    if isinstance(ref, np.ndarray):
        np.testing.assert_array_equal(out, ref)
    else:
        assert out is ref


GRAD_CASES = [c for c in APPLICABLE if c[2].get("pool_size") != 1]


@pytest.mark.parametrize("rank,shape,kwargs", GRAD_CASES, ids=_ids(GRAD_CASES))
def test_input_gradients_equal_without_ties(rank, shape, kwargs):
    x = jnp.asarray(_rand(shape, seed=1))
    layer = LAYERS[rank](**kwargs)
    out_shape = layer.compute_output_shape(shape)
    w = jnp.asarray(_rand(out_shape, seed=2))  # non-uniform upstream grads

    def loss(a):
        return jnp.sum(layer(a) * w)

    jax_pool.disable()
    g_ref = np.asarray(jax.jit(jax.grad(lambda a: loss(a)))(x))
    jax_pool.enable()
    jax_pool.reset_counts()
    g_fast = np.asarray(jax.jit(jax.grad(lambda a: loss(a)))(x))
    assert jax_pool.call_counts()["fast"] >= 1
    np.testing.assert_array_equal(g_fast, g_ref)


def test_tie_gradient_goes_to_the_first_maximum_as_in_keras():
    """With ties the whole gradient goes to the first maximum in row-major window order, as Keras' own op gives it."""
    layer = keras.layers.MaxPooling2D(2)
    x = jnp.asarray(np.array([[1.0, 3.0], [3.0, 0.0]], "float32").reshape(1, 2, 2, 1))

    def grad_of(a):
        return np.asarray(jax.grad(lambda t: jnp.sum(layer(t)))(a))[0, :, :, 0]

    jax_pool.disable()
    g_ref = grad_of(x)
    jax_pool.enable()
    g_fast = grad_of(x)
    np.testing.assert_array_equal(g_ref, [[0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(g_fast, g_ref)


@pytest.mark.parametrize("rank,shape,kwargs", GRAD_CASES, ids=_ids(GRAD_CASES))
def test_input_gradients_equal_with_many_ties(rank, shape, kwargs):
    """Integer-valued inputs tie in most windows: values and gradients still equal Keras' bit for bit."""
    x = jnp.asarray(np.random.default_rng(3).integers(-2, 3, shape).astype("float32"))
    layer = LAYERS[rank](**kwargs)
    w = jnp.asarray(_rand(layer.compute_output_shape(shape), seed=4))

    def value_and_grad():  # the pool's own output and input gradient (a loss summed after it may fuse)
        out, pull_back = jax.vjp(layer, x)
        return out, jax.jit(lambda a: jax.vjp(layer, a)[1](w)[0])(x)

    jax_pool.disable()
    v_ref, g_ref = value_and_grad()
    jax_pool.enable()
    jax_pool.reset_counts()
    v_fast, g_fast = value_and_grad()
    assert jax_pool.call_counts()["fast"] >= 1
    np.testing.assert_array_equal(np.asarray(v_fast), np.asarray(v_ref))
    np.testing.assert_array_equal(np.asarray(g_fast), np.asarray(g_ref))


def _train_tiny(fast, seed=123):
    if fast:
        assert jax_pool.enable()
    else:
        jax_pool.disable()
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
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 10, 10, 1)).astype("float32")
    y = rng.integers(0, 3, size=(16,))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)  # 2 steps
    return model, [np.asarray(w) for w in model.get_weights()]


def test_training_two_steps_identical_weights():
    _, w_ref = _train_tiny(fast=False)
    jax_pool.reset_counts()
    _, w_fast = _train_tiny(fast=True)
    assert jax_pool.call_counts()["fast"] >= 1  # the fit path hit the patch
    assert jax_pool.call_counts()["fallback"] == 0
    assert len(w_ref) == len(w_fast)
    for a, b in zip(w_ref, w_fast):
        # The pool's gradients are Keras' own; XLA fuses the step differently around them, so sums may round apart.
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_seeded_training_with_fast_pool_is_bit_identical_run_to_run():
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
    jax_pool.disable()
    loaded = keras.models.load_model(path)  # safe_mode default
    assert type(loaded.layers[1]) is keras.layers.MaxPooling2D
    cfg = loaded.layers[1].get_config()
    assert "kerascli" not in repr(cfg)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), pred_fast, atol=1e-6)


def test_enable_disable_restore_and_idempotent():
    assert not jax_pool.is_enabled()
    assert jax_nn.max_pool is ORIGINAL_MAX_POOL
    assert jax_pool.enable() is True
    patched = jax_nn.max_pool
    assert patched is not ORIGINAL_MAX_POOL
    assert keras.src.backend.nn.max_pool is patched  # what keras.ops calls
    assert jax_pool.is_enabled()
    assert jax_pool.enable() is True  # idempotent: not double-wrapped
    assert jax_nn.max_pool is patched
    assert jax_pool.disable() is True
    assert jax_nn.max_pool is ORIGINAL_MAX_POOL
    assert keras.src.backend.nn.max_pool is ORIGINAL_MAX_POOL
    assert not jax_pool.is_enabled()
    assert jax_pool.disable() is False  # idempotent
    assert jax_nn.max_pool is ORIGINAL_MAX_POOL


def test_env_switch_keeps_it_off(monkeypatch):
    monkeypatch.setenv(jax_pool.ENV_VAR, "0")
    assert jax_pool.enable() is False
    assert not jax_pool.is_enabled()
    assert jax_nn.max_pool is ORIGINAL_MAX_POOL
    x = _rand((2, 8, 8, 3))
    keras.layers.MaxPooling2D(2)(jnp.asarray(x))
    assert jax_pool.call_counts() == {"fast": 0, "fallback": 0}


def test_env_switch_turns_off_earlier_patch(monkeypatch):
    assert jax_pool.enable() is True
    monkeypatch.setenv(jax_pool.ENV_VAR, "0")
    assert jax_pool.enable() is False
    assert jax_nn.max_pool is ORIGINAL_MAX_POOL
    monkeypatch.setenv(jax_pool.ENV_VAR, "1")
    assert jax_pool.enable() is True


def test_non_jax_backend_is_noop(tmp_path):
    code = (
        "import keras\n"
        "from kerascli.engine import jax_pool\n"
        "assert keras.backend.backend() == 'numpy'\n"
        "assert jax_pool.enable() is False\n"
        "assert not jax_pool.is_enabled()\n"
        "print('OK')\n"
    )
    env = dict(os.environ)
    env.update(
        KERAS_BACKEND="numpy",
        KERAS_HOME=str(tmp_path),
        PYTHONPATH=REPO_ROOT + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.pop(jax_pool.ENV_VAR, None)
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "OK" in res.stdout
