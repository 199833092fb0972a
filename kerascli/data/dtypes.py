"""The dtypes data takes once loaded: float64 becomes float32 (Keras' default float), and the bytes it takes."""

from __future__ import annotations

import numpy as np


def loaded_dtype(dtype) -> np.dtype:
    """The dtype data of `dtype` has once loaded: float64 becomes float32 (Keras' default float)."""
    return np.dtype(np.float32) if np.dtype(dtype) == np.float64 else np.dtype(dtype)


def to_float32(values: np.ndarray) -> np.ndarray:
    """`values` in its `loaded_dtype` (a float64 array converted, any other returned as it is)."""
    return values.astype(loaded_dtype(values.dtype), copy=False)


def keras_dtype(dtype) -> str:
    """The dtype of the Keras input that data of `dtype` feeds: floats train as float32."""
    return "float32" if np.issubdtype(dtype, np.floating) else str(np.dtype(dtype))


def memory_bytes(values) -> int:
    """Bytes `values` takes in RAM once loaded (float64 is loaded as float32)."""
    itemsize = loaded_dtype(values.dtype).itemsize
    return int(np.prod(values.shape, dtype=np.int64)) * itemsize
