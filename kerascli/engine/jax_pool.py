"""Fast non-overlapping max pooling for Keras on the JAX backend.

Why
---
Keras' JAX max-pool (``keras.src.backend.jax.nn.max_pool``) is a
``lax.reduce_window``. Its gradient is XLA's ``select_and_scatter``, which is
very slow on CPU: for a 26x26x32 2x2 pool at batch 128 the backward pass takes
~37 ms per step on the 2-core CI/dev machines (TensorFlow: ~2.5 ms), and it
dominates the step time of small CNNs. Measured (jax/jaxlib 0.10.2, 2 cores,
batch 128, machine shared with other jobs, load ~3, so absolute numbers are
~2x worse than on an idle box):

* forward+backward of that pool alone, jitted: ~68 ms (reduce_window) vs
  ~9 ms (reshape + max);
* the small CNN of ``benchmarks/cnn_pool.py`` with only its first pool
  (26x26x32) on the fast path: ~221 -> ~119 ms/step, ~580 -> ~1080
  samples/s (1.3-1.85x across runs); cropping odd "valid" maps lets its
  second pool (11x11) take the fast path too (one step: ~152 -> ~135 ms).

How it computes
---------------
The pool is the ``max`` of its window positions, each one a strided slice of
the input (``x[:, 0::2, 0::2]``, ``x[:, 0::2, 1::2]``, ...), folded in the
row-major window order ``reduce_window`` uses; its gradient (a
``jax.custom_vjp``) hands each window's upstream value to the first position
that holds the maximum, which is what ``select_and_scatter`` does. The forward
pass also keeps, as the gradient's only residual, WHICH window position holds
each maximum (``argmax`` over the stacked positions, int8): a reduction, so XLA
materialises it, and the backward pass is a select on it, fused with the relu
gradient after it. (With the input itself as the residual, XLA recomputed the
layer before the pool inside the gradient's fusion once per window position:
with the few-tap conv of `kerascli.engine.jax_conv` before it, that one fusion
took ~20 ms of a ~45 ms step.) On the small CNN the first version of this pool
took the step from ~77 to ~60 ms of CPU (one core, load ~7); the argmax
residual took it (with the few-tap conv) from ~54 to ~39 ms (load ~5, the two
compiled steps alternated in one process).

When it applies
---------------
A max pool whose windows do not overlap and tile the input exactly is the same
thing as "split every spatial axis ``d`` into ``(d // p, p)`` and take the max
over the ``p`` axes". The patched op takes that path ONLY when all of these
hold, and otherwise calls the original Keras function unchanged:

* ``strides == pool_size`` in every spatial dimension, given explicitly (the
  pooling layers always pass it; a direct ``keras.ops.max_pool(x, 2)`` call
  with ``strides=None`` falls back, because Keras 3.15.1's JAX op raises a
  ``TypeError`` there and the patch keeps that behaviour);
* every spatial dimension is divisible by its pool size, or the padding is
  ``"valid"``: a valid pool never reads the trailing ``d % p`` rows/columns,
  so cropping them first (e.g. 2x2 on 7x7 or 11x11) is exact too;
* ``padding == "valid"``, or ``"same"`` with divisible sizes -- which adds
  no padding, so it is the same computation;
* the input is a floating-point JAX/NumPy array (integer inputs fall back);
* ``channels_last`` and ``channels_first`` are both handled.

Shapes are static under ``jax.jit`` (and so inside ``model.fit``), so the
checks are plain Python on ``inputs.shape`` at trace time.

Exactness
---------
Outputs are bit-identical to ``reduce_window`` (max is exact, applied in the
same order; NaN propagates). Input gradients are bit-identical too, ties
included: the whole upstream gradient goes to the FIRST maximal element of the
window in row-major window order, as ``select_and_scatter`` gives it
(``tests/engine/test_jax_pool.py`` checks windows full of ties). The one
difference: a window holding a NaN passes its gradient to its first NaN on
the fast path, where ``select_and_scatter`` passes it to some element (the
loss is NaN by then).

How it is used / switched off
-----------------------------
``enable()`` swaps Keras' JAX ``max_pool`` for the wrapper below and
``disable()`` puts it back (`kerascli.engine.jax_patch`): ``keras.ops.max_pool``
and the ``MaxPooling1D/2D/3D`` layers look it up at call time, so no layer
class changes and saved ``.keras`` files stay standard. ``enable()`` returns
``False`` and changes nothing on other backends, or when
``KERASCLI_FAST_POOL`` is ``"0"`` (kerascli's config switch sets it).

Version fragility: this relies on ``keras.src`` internals (checked against
Keras 3.15.1): that the JAX backend module exposes ``max_pool(inputs,
pool_size, strides=None, padding="valid", data_format=None)`` and that
``keras.src.ops.nn`` calls it as ``backend.nn.max_pool`` at call time. If the
function cannot be found, ``enable()`` returns ``False`` and changes nothing.

This module does not import Keras or JAX at import time (kerascli's
``validate``/``--help`` paths must stay fast).
"""

from __future__ import annotations

import functools
import itertools
import math

from kerascli.engine.jax_patch import BackendPatch, spatial_tuple

__all__ = [
    "enable",
    "disable",
    "is_enabled",
    "call_counts",
    "reset_counts",
    "ENV_VAR",
]

ENV_VAR = "KERASCLI_FAST_POOL"

# Python-level call counters. Under jit they count TRACES, not executions.
_counts = {"fast": 0, "fallback": 0}


def call_counts() -> dict:
    """Return a copy of ``{"fast": n, "fallback": m}`` (trace-time counts)."""
    return dict(_counts)


def reset_counts() -> None:
    _counts["fast"] = 0
    _counts["fallback"] = 0


def _fast_plan(inputs, pool_size, strides, padding, data_format):
    """Return (data_format, pool tuple) when the window-slice max is exact, else None."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from keras.src import backend

    if not isinstance(inputs, (jax.Array, np.ndarray)):
        return None
    # Same (case-sensitive) check as Keras' own ``_pool``; anything else goes
    # to the original op, which raises as before.
    if padding not in ("valid", "same"):
        return None
    if not jnp.issubdtype(inputs.dtype, jnp.floating):
        return None
    ndim = inputs.ndim
    if ndim < 3:
        return None
    try:
        data_format = backend.standardize_data_format(data_format)
    except Exception:
        return None
    n = ndim - 2
    pool = spatial_tuple(pool_size, n)
    if pool is None:
        return None
    if strides is None:
        # Keras 3.15.1's JAX max_pool raises for strides=None (it expands the
        # already-expanded pool tuple again); keep that behaviour. The
        # pooling layers always pass explicit strides.
        return None
    stride = spatial_tuple(strides, n)
    if stride is None or stride != pool:
        return None
    shape = tuple(inputs.shape)
    spatial = shape[1:-1] if data_format == "channels_last" else shape[2:]
    for d, p in zip(spatial, pool):
        if not isinstance(d, int) or p <= 0 or d < p:
            return None
        if d % p and padding != "valid":
            return None
    return data_format, pool


def _windows(x, data_format, pool):
    """The elements of every pooling window, one strided slice per window position, in row-major order."""
    first = 1 if data_format == "channels_last" else 2
    spatial = x.shape[first : first + len(pool)]
    slices = []
    for offset in itertools.product(*(range(p) for p in pool)):
        index = [slice(None)] * x.ndim
        for axis, (start, p, d) in enumerate(zip(offset, pool, spatial)):
            index[first + axis] = slice(start, (d // p) * p, p)  # a valid pool never reads the d % p tail
        slices.append(x[tuple(index)])
    return slices


def _fold_max(slices):
    """`max` over the window positions, in the order `reduce_window` applies it."""
    import jax.numpy as jnp

    result = slices[0]
    for part in slices[1:]:
        result = jnp.maximum(result, part)
    return result


def _first_max_position(slices):
    """Which window position holds each window's FIRST maximum (row-major order), as a small integer."""
    import jax.numpy as jnp

    dtype = jnp.int8 if len(slices) <= 127 else jnp.int32
    return jnp.argmax(jnp.stack(slices), axis=0).astype(dtype)


def _first_max_gradient(position, upstream, shape, data_format, pool):
    """The input gradient `select_and_scatter` gives: each window's upstream value to its FIRST maximum."""
    import jax.numpy as jnp

    zero = jnp.zeros((), upstream.dtype)
    parts = [jnp.where(position == index, upstream, zero) for index in range(math.prod(pool))]
    return _interleave(parts, shape, data_format, pool)


def _interleave(parts, shape, data_format, pool):
    """Puts the per-position slices back where they came from; the cropped tail gets zeros."""
    import jax.numpy as jnp

    n = len(pool)
    first = 1 if data_format == "channels_last" else 2
    part_shape = parts[0].shape  # lead..., pooled spatial..., tail...
    stacked = jnp.stack(parts).reshape(tuple(pool) + part_shape)
    # (p1..pn, lead, s1..sn, tail) -> (lead, s1, p1, ..., sn, pn, tail)
    lead = [n + i for i in range(first)]
    spatial = [axis for i in range(n) for axis in (n + first + i, i)]
    tail = list(range(n + first + n, stacked.ndim))
    merged = stacked.transpose(lead + spatial + tail)
    cropped = (
        part_shape[:first] + tuple(s * p for s, p in zip(part_shape[first : first + n], pool)) + part_shape[first + n :]
    )
    merged = merged.reshape(cropped)
    pad = [(0, full - kept) for full, kept in zip(shape, cropped)]
    return jnp.pad(merged, pad) if any(after for _, after in pad) else merged


@functools.cache
def _pool_function(data_format, pool, shape):
    """The fast max pool for one layout, pool size and input shape: forward and gradient as Keras' own op computes them."""
    import jax

    @jax.custom_vjp
    def window_max(x):
        return _fold_max(_windows(x, data_format, pool))

    def forward(x):
        slices = _windows(x, data_format, pool)
        return _fold_max(slices), _first_max_position(slices)

    def backward(position, upstream):
        return (_first_max_gradient(position, upstream, shape, data_format, pool),)

    window_max.defvjp(forward, backward)
    return window_max


def _window_max(inputs, data_format, pool):
    import jax.numpy as jnp

    inputs = jnp.asarray(inputs)
    return _pool_function(data_format, pool, tuple(inputs.shape))(inputs)


def _make_patched(original):
    @functools.wraps(original)
    def max_pool(
        inputs,
        pool_size,
        strides=None,
        padding="valid",
        data_format=None,
    ):
        plan = _fast_plan(inputs, pool_size, strides, padding, data_format)
        if plan is None:
            _counts["fallback"] += 1
            return original(inputs, pool_size, strides, padding, data_format)
        _counts["fast"] += 1
        return _window_max(inputs, *plan)

    return max_pool


_PATCH = BackendPatch("max_pool", ENV_VAR, _make_patched)


def enable() -> bool:
    """Patch Keras' JAX max-pool. Returns True when the fast path is active."""
    return _PATCH.enable()


def disable() -> bool:
    """Restore the original function objects. Returns True if it was enabled."""
    return _PATCH.disable()


def is_enabled() -> bool:
    return _PATCH.is_enabled()
