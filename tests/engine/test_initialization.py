"""Weights built in one compiled program are the weights plain Keras draws; loading skips the draws."""

from __future__ import annotations

import numpy as np
import pytest

from kerascli.engine import initialization
from kerascli.engine.keras_import import load_keras
from kerascli.engine.loading import load_for_inference

keras = load_keras()
L = keras.layers


def small_model() -> keras.Model:
    """Every kind of built-in draw on small shapes: uniform, (truncated) normal, QR, constants, BN, RNN."""
    inputs = keras.Input((4, 3))
    flat = L.Flatten()(inputs)
    heads = [
        L.Dense(3, kernel_initializer=init, bias_initializer="random_uniform")(flat)
        for init in ["glorot_uniform", "he_normal", "orthogonal", keras.initializers.RandomNormal(0.5, 2.0)]
    ]
    conv = L.BatchNormalization()(L.Conv1D(2, 3)(inputs))
    recurrent = L.GRU(2)(inputs)
    joined = L.Concatenate()([*heads, L.Flatten()(conv), recurrent])
    return keras.Model(inputs, L.Dense(2)(L.Dropout(0.2)(joined)))


def weights_of(build, seed: int = 11) -> list[np.ndarray]:
    keras.utils.set_random_seed(seed)
    return [np.asarray(v) for v in build().weights]


def test_weights_are_bit_identical_to_plain_keras_draws(monkeypatch):
    plain = weights_of(small_model)
    drawn = []
    draw_together = initialization.draw_together
    monkeypatch.setattr(initialization, "draw_together", lambda vs: drawn.extend(vs) or draw_together(vs))

    built = []

    def deferred():
        with initialization.deferred_initialization():
            built.append(small_model())
        return built[0]

    fast = weights_of(deferred)
    drawn_ids = {id(v) for v in drawn}
    assert all(id(v) in drawn_ids for v in built[0].weights)  # every weight came from the shared program
    assert [w.shape for w in fast] == [w.shape for w in plain]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(fast, plain))
    assert any(not np.all(w == w.flat[0]) for w in fast)  # really random draws, not constants


def test_all_random_draws_of_a_model_share_one_threefry_hash(monkeypatch):
    plans = []
    draw_together = initialization.draw_together
    monkeypatch.setattr(
        initialization, "draw_together", lambda vs: plans.extend(map(initialization.plan, vs)) or draw_together(vs)
    )
    with initialization.deferred_initialization():
        small_model()
    program, operands, _ = initialization.drawing_program(plans)
    separate_draws = sum(str(jaxpr).count("random_bits") for jaxpr, _ in plans)
    assert separate_draws >= 8  # the dense heads, their biases, the conv, the GRU kernels
    assert program.lower(operands).as_text().count("stablehlo.while") == 1  # the CPU lowers a hash as one loop


SWEEP = [
    keras.initializers.RandomNormal(1.0, 0.3),  # a multiply then an add: two eager programs, never fused into one
    keras.initializers.RandomUniform(-3.0, 7.0),
    keras.initializers.TruncatedNormal(0.5, 0.7),
    keras.initializers.VarianceScaling(1.3, "fan_out", "untruncated_normal"),
    "lecun_uniform",
    "he_normal",
    "zeros",
    "ones",
    keras.initializers.Constant(0.3),
]


def test_every_initializer_on_every_shape_draws_what_plain_keras_draws():
    shapes = [(3,), (3, 4, 5), (8, 3), (17, 33)]

    def variables():
        return [keras.Variable(initializer=init, shape=shape, dtype=dtype) for init in SWEEP for shape in shapes
                for dtype in ("float32", "bfloat16")]  # fmt: skip

    def deferred():
        with initialization.deferred_initialization():
            return variables()

    keras.utils.set_random_seed(5)
    plain = [np.asarray(v) for v in variables()]
    keras.utils.set_random_seed(5)
    fast = [np.asarray(v) for v in deferred()]
    assert [(a.dtype, a.shape) for a in fast] == [(b.dtype, b.shape) for b in plain]
    assert [i for i, (a, b) in enumerate(zip(fast, plain)) if a.tobytes() != b.tobytes()] == []


def test_another_seed_draws_other_weights():
    def deferred():
        with initialization.deferred_initialization():
            return small_model()

    assert weights_of(deferred, 1)[0].tobytes() != weights_of(deferred, 2)[0].tobytes()


class CountingInitializer(keras.initializers.Initializer):
    calls = 0

    def __call__(self, shape, dtype=None):
        CountingInitializer.calls += 1
        return keras.ops.ones(shape, dtype=dtype)


def test_a_value_assigned_inside_is_the_initial_value_and_nothing_is_drawn():
    CountingInitializer.calls = 0
    with initialization.deferred_initialization():
        layer = L.Dense(2, kernel_initializer=CountingInitializer(), use_bias=False)
        layer.build((None, 3))
        layer.kernel.assign(np.full((3, 2), 7.0, "float32"))
    assert CountingInitializer.calls == 0
    np.testing.assert_array_equal(np.asarray(layer.kernel), np.full((3, 2), 7.0))


def test_a_failed_build_leaves_no_pending_variables():
    from keras.src.backend.common import global_state

    with pytest.raises(ValueError, match="boom"):
        with initialization.deferred_initialization():
            L.Dense(2).build((None, 3))
            raise ValueError("boom")
    assert not global_state.get_global_attribute("uninitialized_variables", None)


def test_switched_off_builds_the_keras_way(monkeypatch):
    monkeypatch.setenv(initialization.SWITCH_ENV, "0")
    assert not initialization.enabled()
    with initialization.deferred_initialization():
        layer = L.Dense(2)
        layer.build((None, 3))
        assert layer.kernel._value is not None  # drawn at creation, as plain Keras does


def test_build_optimizer_creates_its_slots_before_fit():
    model = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    initialization.build_optimizer(model)
    assert model.optimizer.built
    assert all(np.all(np.asarray(v) == 0) for v in model.optimizer.variables[2:])  # momenta start at zero


def test_load_for_inference_matches_keras_load_model(tmp_path):
    keras.utils.set_random_seed(3)
    model = small_model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(8, 4, 3)).astype("float32")
    y = np.zeros((8, 2), "float32")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)

    plain = keras.saving.load_model(path, safe_mode=True)
    fast = load_for_inference(path)
    assert [v.path for v in fast.weights] == [v.path for v in plain.weights]
    assert all(np.asarray(a).tobytes() == np.asarray(b).tobytes() for a, b in zip(fast.weights, plain.weights))
    np.testing.assert_array_equal(fast.predict(x, verbose=0), plain.predict(x, verbose=0))
    assert fast.evaluate(x, y, verbose=0, return_dict=True) == plain.evaluate(x, y, verbose=0, return_dict=True)
