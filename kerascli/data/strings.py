"""Raw string inputs: a column fed to the graph as strings, for Keras' own string layers (backend: tensorflow).

A model input declared `dtype: string` (`model.inputs: {review: {dtype:
string}}`) receives its column as read, one string per row, so that
`TextVectorization`, `StringLookup` or a custom standardisation run inside
the model, are adapted there and saved with it in `model.keras`. Only the
TensorFlow backend has string tensors (`kerascli.model.adapt.check_stack`
refuses the others first).

In the data layer the strings stay NumPy object arrays (splits, row checks
and chunking treat them like any other array); `to_keras` turns them into
string tensors where they are handed to Keras (`fit`, `evaluate`,
`predict`, adapting; `kerascli.engine.strings`).
"""

from __future__ import annotations

import numpy as np

from kerascli.engine.strings import STRING, is_strings, to_keras

__all__ = ["is_strings", "model_string_inputs", "string_column", "string_inputs", "to_keras"]


def string_inputs(inputs) -> dict[str, tuple]:
    """The sample shape of each model input declared `dtype: string`.

    Args:
        inputs: `model.inputs` of the config (name → `InputSpec`), or None.

    Returns:
        `{input_name: shape}`, e.g. `{"review": (1,)}`.
    """
    return {name: tuple(spec.shape) for name, spec in (inputs or {}).items() if spec.dtype == STRING}


def model_string_inputs(model) -> dict[str, tuple]:
    """The sample shape of each string input of a built (or loaded) Keras model."""
    from kerascli.engine.tensors import tensor_name

    return {tensor_name(t): tuple(t.shape[1:]) for t in model.inputs if str(t.dtype) == STRING}


def string_column(values, shape: tuple, where: str, fail) -> np.ndarray:
    """One column as a NumPy object array of `str`, one row per sample, in the input's sample shape.

    Args:
        values: the column as read: a pyarrow (chunked) array, or a NumPy array.
        shape: the input's sample shape: `(1,)` or `()`.
        where: the column and file, for messages.
        fail: called with a message when the shape cannot hold one string per row.

    Returns:
        An object array of shape `(rows,) + shape`; a missing value is `""`.
    """
    if tuple(shape) not in ((1,), ()):
        fail(
            f"{where} gives one string per row, so its string input takes shape [1] (the default) or []; "
            f"got shape {list(shape)}"
        )
    if hasattr(values, "to_pylist"):  # pyarrow: cast (numbers of a Parquet column), nulls to ""
        import pyarrow as pa
        import pyarrow.compute as pc

        if hasattr(values, "combine_chunks"):
            values = values.combine_chunks()
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            values = pc.cast(values, pa.string())
        values = pc.fill_null(values, "").to_numpy(zero_copy_only=False)
    out = np.empty(len(values), dtype=object)
    out[:] = ["" if v is None else v if isinstance(v, str) else str(v) for v in values]
    return out.reshape((-1,) + tuple(shape))
