"""String arrays handed to Keras: as string tensors, since Keras has no tensor type for a NumPy object array.

Keras 3.15's array adapter reads a NumPy object (or unicode) array as dtype
`object` and fails (`Invalid dtype: object`); a string tensor it takes, in
`fit`, `evaluate`, `predict` and a layer's `adapt`/`update_state`. Only the
TensorFlow backend has string tensors. Used by the data feeds and by adapt.
"""

from __future__ import annotations

import numpy as np

from kerascli.engine.keras_import import load_keras

STRING = "string"


def is_strings(values) -> bool:
    """Whether `values` is a NumPy array of strings (object, unicode or bytes)."""
    return isinstance(values, np.ndarray) and values.dtype.kind in "OUS"


def to_keras(x):
    """`x` (an array, or a dict of arrays by input name) with string arrays as Keras string tensors.

    Other arrays are returned as they are; nothing is copied when there are no strings.
    """
    if isinstance(x, dict):
        return {k: to_keras(v) for k, v in x.items()} if any(is_strings(v) for v in x.values()) else x
    if not is_strings(x):
        return x
    return load_keras().ops.convert_to_tensor(x, dtype=STRING)
