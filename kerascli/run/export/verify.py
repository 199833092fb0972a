"""Verification of an export: the artifact, run by its own runtime, against Keras' `predict`.

The sample is the first `SAMPLE_ROWS` rows of the run's validation data (its
training data when it has none), the reference is `model.predict` on the
run's own backend, the one `kerascli predict` and `kerascli serve` use. An
export whose outputs differ by more than `TOLERANCE` anywhere is refused.
"""

from __future__ import annotations

import numpy as np

from kerascli.data import Labels
from kerascli.data.dtypes import to_float32
from kerascli.engine.tensors import tensor_name
from kerascli.run.inputs import load_training_data

SAMPLE_ROWS = 64
TOLERANCE = 1e-4


def sample(ctx, rows: int = SAMPLE_ROWS) -> tuple[dict[str, np.ndarray], str]:
    """The verification inputs by model input name, and where they come from (`validation` or `train`)."""
    train, validation = load_training_data(ctx.doc, ctx.cfg, ctx.seed, Labels(ctx.labels))
    arrays, source = (validation, "validation") if validation is not None else (train, "train")
    names = [tensor_name(t) for t in ctx.model.inputs]
    inputs = {}
    for name, tensor in zip(names, ctx.model.inputs):
        values = arrays.x[name] if name in arrays.x else next(iter(arrays.x.values()))
        values = np.asarray(values[:rows])
        inputs[name] = to_float32(values) if values.dtype.kind == "f" else values.astype(tensor.dtype)
    return inputs, source


def reference(model, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Keras' predictions on `inputs`, by output name."""
    feed = inputs if len(inputs) > 1 else next(iter(inputs.values()))
    return outputs_by_name(model, model.predict(feed, verbose=0))


def outputs_by_name(model, raw) -> dict[str, np.ndarray]:
    """A model's predictions (an array, a list or a dict) as arrays by output name."""
    names = list(model.output_names)
    if isinstance(raw, dict):
        return {name: np.asarray(raw[name]) for name in names}
    raw = raw if isinstance(raw, (list, tuple)) else [raw]
    return {name: np.asarray(values) for name, values in zip(names, raw)}


def compare(expected: dict[str, np.ndarray], actual: dict[str, np.ndarray]) -> dict[str, float]:
    """The largest absolute difference per output (inf where shapes differ or an output is missing)."""
    diffs = {}
    for name, values in expected.items():
        got = actual.get(name)
        if got is None or np.shape(got) != np.shape(values):
            diffs[name] = float("inf")
        else:
            diffs[name] = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - values))) if values.size else 0.0
    return diffs
