"""`kerascli.engine.seeding`: Keras seeded as `keras.utils.set_random_seed` seeds it, without importing TensorFlow."""

import random
import subprocess
import sys

import numpy as np

from kerascli.engine.keras_import import load_keras
from kerascli.engine.seeding import set_random_seed

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
        "import sys, kerascli.engine.keras_import as k, kerascli.engine.seeding as s; "
        "keras = k.load_keras('jax'); s.set_random_seed(keras, 1); print('tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
