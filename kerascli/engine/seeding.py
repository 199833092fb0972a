"""Seeding Keras without importing TensorFlow for it on another backend.

`keras.utils.set_random_seed` seeds Python, NumPy, Keras' global seed
generator and torch, and also TensorFlow whenever TensorFlow is installed,
importing it to do so (for `tf.data` pipelines). kerascli feeds no `tf.data`
pipeline on JAX or torch, and that import costs about 2.5 s of every command
on a machine where the `tensorflow` extra is installed. `set_random_seed`
here calls Keras' own function, with TensorFlow seeded only when it is the
backend or already imported.
"""

from __future__ import annotations

import contextlib
import sys


class _Absent:
    """Stands for Keras' lazy `tensorflow` module while it must not be imported."""

    available = False


def set_random_seed(keras, seed: int) -> None:
    """`keras.utils.set_random_seed(seed)`, importing TensorFlow only if it is in use.

    Args:
        keras: the Keras module.
        seed: the seed.
    """
    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    from keras.src.utils import rng_utils

    with _replaced(rng_utils, "tf", _Absent()):
        keras.utils.set_random_seed(seed)


@contextlib.contextmanager
def _replaced(module, name: str, value):
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)
