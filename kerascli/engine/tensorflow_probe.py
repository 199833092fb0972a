"""Calling Keras where it would import TensorFlow only to ask about it.

Keras reaches TensorFlow through a lazy module whose `available` property
imports TensorFlow whenever it is installed (about 2.5 s, and 5 s in a
process that has not imported it yet), on any backend. Two calls kerascli
makes on every JAX or torch run ask it:

- `keras.utils.set_random_seed` seeds TensorFlow too (for `tf.data`
  pipelines, which kerascli feeds none of on JAX or torch);
- `model.save` (`serialize_keras_object`) asks, for every object it
  serializes, whether TensorFlow is installed before asking whether the
  object is a `tf.TensorShape`, `tf.DType` or `tf.TypeSpec`. When
  TensorFlow was never imported no object can be one of those, so the
  answer cannot change what is saved. An optimizer's `get_config` with a
  learning-rate schedule serializes the schedule the same way (a fit phase
  that sets its own `learning_rate` rebuilds the optimizer from it).

Both are Keras' own functions, called with that lazy module standing in as
"not available" while TensorFlow is neither the backend nor imported, and
put back afterwards (so `StringLookup` and the like, which need TensorFlow,
still find it).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any


class _Absent:
    """Stands for Keras' lazy `tensorflow` module while it must not be imported."""

    available = False


def set_random_seed(keras, seed: int) -> None:
    """`keras.utils.set_random_seed(seed)`, importing TensorFlow only if it is in use.

    Args:
        keras: the Keras module.
        seed: the seed.
    """
    from keras.src.utils import rng_utils

    with _unprobed(keras, rng_utils):
        keras.utils.set_random_seed(seed)


def save_model(keras, model: Any, path: str) -> None:
    """`model.save(path)`, without importing TensorFlow to check types it cannot meet.

    Args:
        keras: the Keras module.
        model: the Keras model.
        path: a `.keras` file name.
    """
    from keras.src.saving import serialization_lib

    with _unprobed(keras, serialization_lib):
        model.save(path)


def config_of(keras, keras_object: Any) -> dict:
    """`keras_object.get_config()`, without importing TensorFlow to check types it cannot meet.

    Args:
        keras: the Keras module.
        keras_object: a Keras object (an optimizer, whose learning rate may
            be a schedule Keras serializes).
    """
    from keras.src.saving import serialization_lib

    with _unprobed(keras, serialization_lib):
        return keras_object.get_config()


@contextlib.contextmanager
def _unprobed(keras, module):
    """Keras' `module.tf` reads as unavailable while TensorFlow is neither the backend nor imported."""
    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        yield
        return
    original = module.tf
    module.tf = _Absent()
    try:
        yield
    finally:
        module.tf = original
