"""`kerascli.engine.tensorflow_probe`: Keras seeds and saves as it does, without importing TensorFlow on other backends."""

import importlib.util
import random

import numpy as np
import pytest
from fresh_python import printed_words

from kerascli.engine.keras_import import load_keras
from kerascli.engine.tensorflow_probe import save_model, set_random_seed

keras = load_keras()


def test_the_seeds_are_keras_own():
    set_random_seed(keras, 123)
    ours = (random.random(), np.random.rand(), float(keras.random.uniform(())))
    keras.utils.set_random_seed(123)
    theirs = (random.random(), np.random.rand(), float(keras.random.uniform(())))
    assert ours == theirs


def test_tensorflow_is_not_imported_to_seed_another_backend():
    # Keras' own function imports TensorFlow whenever it is installed (2.5 s per command).
    code = (
        "import sys, kerascli.engine.keras_import as k, kerascli.engine.tensorflow_probe as s; "
        "keras = k.load_keras('jax'); s.set_random_seed(keras, 1); print('tensorflow' in sys.modules)"
    )
    assert printed_words(code) == ["False"]


def _tiny_model():
    inputs = keras.Input((3,), name="features")
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs))


def test_the_saved_model_loads_with_the_same_weights(tmp_path):
    model = _tiny_model()
    save_model(keras, model, str(tmp_path / "m.keras"))
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert [w.name for w in loaded.weights] == [w.name for w in model.weights]
    for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow installed")
def test_tensorflow_is_not_imported_to_save_a_jax_model(tmp_path):
    # Keras' `model.save` imports TensorFlow (5 s) to ask whether objects are TensorShapes;
    # afterwards TensorFlow-backed layers still find it.
    code = (
        "import sys, kerascli.engine.keras_import as k, kerascli.engine.tensorflow_probe as s; "
        "keras = k.load_keras('jax'); i = keras.Input((3,)); m = keras.Model(i, keras.layers.Dense(2)(i)); "
        f"s.save_model(keras, m, {str(tmp_path / 'm.keras')!r}); print('tensorflow' in sys.modules); "
        "keras.layers.StringLookup(vocabulary=['a']); print('tensorflow' in sys.modules)"
    )
    assert printed_words(code) == ["False", "True"]


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow installed")
def test_a_scheduled_optimizers_config_does_not_import_tensorflow():
    # A fit phase with its own learning_rate rebuilds the optimizer from `get_config`, which
    # serializes the schedule and so imported TensorFlow on JAX.
    code = (
        "import sys, kerascli.engine.keras_import as k, kerascli.engine.tensorflow_probe as s; "
        "keras = k.load_keras('jax'); "
        "o = keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)); "
        "c = s.config_of(keras, o); print('tensorflow' in sys.modules, c['learning_rate']['class_name'])"
    )
    assert printed_words(code) == ["False", "ExponentialDecay"]
