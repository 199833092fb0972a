"""Fast convolutions with few input taps (a first layer on grey or RGB images) for Keras on the JAX backend.

Why
---
A convolution whose kernel meets only a few input values per output (a
3x3 kernel on a one-channel image: 9 taps) is memory-bound: XLA CPU's
convolution spends ~4.5 ms on the first layer of the small CNN of
``benchmarks/cnn_pool.py`` (128x28x28x1 -> 128x26x26x32), and the
kernel's gradient ~3 ms, most of it moving data. Written as a sum of
shifted slices of the input times one kernel entry each, the same forward
pass is one elementwise loop that XLA fuses with the bias, the relu and the
max pool after it (~0.7 ms measured alone), and the kernel's gradient is one
matrix product of the stacked slices with the upstream gradient. On the
small CNN that took ~11 ms of CPU time off a ~60-78 ms training step
(measured in one process, the variants alternated, load 5-6; see README).

How it computes
---------------
For a stride-1, undilated, ungrouped ``channels_last`` convolution:

* forward: ``sum over taps (offset, c) of x[:, offset:offset+out, c:c+1] *
  kernel[offset, c, :]``, summed in row-major tap order;
* kernel gradient: the taps' slices stacked as a ``(taps, N*out)`` matrix
  times the upstream gradient as ``(N*out, filters)``;
* input gradient: Keras' own op's gradient (``jax.vjp`` of the same
  ``lax.conv_general_dilated`` call Keras makes).

``padding="same"`` pads the input as ``lax`` does ("SAME" for stride 1) and
then computes the valid convolution of the padded input.

Exactness
---------
Not bit-identical to XLA's convolution: a float32 sum of the same products in
another order. ``tests/engine/test_jax_conv.py`` checks the output and the
kernel gradient against Keras' op with ``allclose`` at float32 rounding
(relative 1e-5 of the largest value), and the input gradient bit for bit
(same upstream gradient in, same computation). Seeded training stays
bit-identical run to run (the computation is deterministic).

When it applies
---------------
Only when every one of these holds; otherwise Keras' own function runs
unchanged: the kernel meets at most ``MAX_TAPS`` (27: 3x3 on RGB) input
values per output (window size x input channels), strides and dilation 1,
``channels_last``, no feature groups (kernel input channels == input
channels), ``padding`` ``"valid"`` or ``"same"``, a float32 kernel (a
float16/bfloat16 tap sum would round at every tap), and
an output that is not empty (Keras raises for that; so does the fallback).
Wider convolutions (the second conv of the small CNN: 3x3x32 = 288 taps) are
faster on XLA's convolution and keep it.

How it is used / switched off
-----------------------------
``enable()`` swaps ``keras.src.backend.jax.nn.conv`` (what ``keras.ops.conv``
and the ``Conv1D/2D/3D`` layers call) for the wrapper below and ``disable()``
puts it back, see `kerascli.engine.jax_patch`; layers, variables and saved
``.keras`` files stay Keras' own. kerascli turns it on with the max-pool
lowering (``compile.fast_pool``, `kerascli.engine.speed`);
``KERASCLI_FAST_CONV=0`` keeps it off. Checked against Keras 3.15.1's
``conv(inputs, kernel, strides=1, padding="valid", data_format=None,
dilation_rate=1)``.

This module does not import Keras or JAX at import time.
"""

from __future__ import annotations

import functools
import itertools
import math

from kerascli.engine.jax_patch import BackendPatch, spatial_tuple

__all__ = ["enable", "disable", "is_enabled", "call_counts", "reset_counts", "ENV_VAR", "MAX_TAPS"]

ENV_VAR = "KERASCLI_FAST_CONV"
MAX_TAPS = 27

# Python-level call counters. Under jit they count TRACES, not executions.
_counts = {"fast": 0, "fallback": 0}


def call_counts() -> dict:
    """Return a copy of ``{"fast": n, "fallback": m}`` (trace-time counts)."""
    return dict(_counts)


def reset_counts() -> None:
    _counts["fast"] = 0
    _counts["fallback"] = 0


def _fast_plan(inputs, kernel, strides, padding, data_format, dilation_rate):
    """The input padding ``((lo, hi), ...)`` when the tap-sum lowering applies, else None."""
    from jax import lax
    from keras.src import backend

    if padding not in ("valid", "same"):
        return None
    try:
        data_format = backend.standardize_data_format(data_format)
        kernel_dtype = backend.standardize_dtype(kernel.dtype)
        in_shape, k_shape = tuple(inputs.shape), tuple(kernel.shape)
    except Exception:
        return None
    n = len(in_shape) - 2
    # float32 only: a half-precision tap sum (mixed precision) would round at every tap
    if data_format != "channels_last" or n < 1 or len(k_shape) != n + 2 or kernel_dtype != "float32":
        return None
    if spatial_tuple(strides, n) != (1,) * n or spatial_tuple(dilation_rate, n) != (1,) * n:
        return None
    window, channels = k_shape[:n], k_shape[n]
    spatial = in_shape[1:-1]
    if not all(isinstance(d, int) for d in in_shape) or in_shape[-1] != channels:
        return None
    if math.prod(window) * channels > MAX_TAPS:
        return None
    pads = ((0, 0),) * n if padding == "valid" else lax.padtype_to_pads(spatial, window, (1,) * n, "SAME")
    pads = tuple((int(lo), int(hi)) for lo, hi in pads)
    if any(d + lo + hi - w + 1 < 1 for d, (lo, hi), w in zip(spatial, pads, window)):
        return None
    return pads


def _lax_conv(x, kernel):
    """The valid, stride-1 convolution exactly as Keras' JAX op calls `lax` for ``channels_last``."""
    from jax import lax

    n = x.ndim - 2
    spatial = tuple(range(1, n + 1))
    numbers = lax.ConvDimensionNumbers((0, n + 1) + spatial, (n + 1, n) + tuple(range(n)), (0, n + 1) + spatial)
    return lax.conv_general_dilated(
        x, kernel, (1,) * n, "valid", rhs_dilation=(1,) * n, dimension_numbers=numbers, feature_group_count=1
    )


@functools.cache
def _conv_function(in_shape, k_shape):
    """The tap-sum convolution for one input and kernel shape, with its custom gradient."""
    import jax
    import jax.numpy as jnp

    n = len(k_shape) - 2
    window, channels, filters = k_shape[:n], k_shape[n], k_shape[n + 1]
    out = tuple(d - w + 1 for d, w in zip(in_shape[1:-1], window))
    taps = [(offset, c) for offset in itertools.product(*(range(w) for w in window)) for c in range(channels)]

    def tap(x, offset, c):
        """The input values that meet ``kernel[offset, c]``, for every output position: (N, *out, 1)."""
        return x[(slice(None),) + tuple(slice(o, o + s) for o, s in zip(offset, out)) + (slice(c, c + 1),)]

    @jax.custom_vjp
    def tap_sum(x, kernel):
        total = None
        for offset, c in taps:
            term = tap(x, offset, c) * kernel[offset + (c,)]
            total = term if total is None else total + term
        return total

    def forward(x, kernel):
        return tap_sum(x, kernel), (x, kernel)

    def backward(residuals, upstream):
        x, kernel = residuals
        patches = jnp.stack([tap(x, offset, c)[..., 0] for offset, c in taps]).reshape(len(taps), -1)
        kernel_grad = (patches @ upstream.reshape(-1, filters)).reshape(k_shape)
        _, input_vjp = jax.vjp(lambda x: _lax_conv(x, kernel), x)
        return input_vjp(upstream)[0], kernel_grad.astype(kernel.dtype)

    tap_sum.defvjp(forward, backward)
    return tap_sum


def _tap_sum_conv(inputs, kernel, pads):
    import jax.numpy as jnp
    from keras.src.backend.jax.core import convert_to_tensor

    kernel = convert_to_tensor(kernel)
    inputs = convert_to_tensor(inputs, dtype=kernel.dtype)  # as Keras' op does
    if any(lo or hi for lo, hi in pads):
        inputs = jnp.pad(inputs, ((0, 0),) + pads + ((0, 0),))
    return _conv_function(tuple(inputs.shape), tuple(kernel.shape))(inputs, kernel)


def _make_patched(original):
    @functools.wraps(original)
    def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
        pads = _fast_plan(inputs, kernel, strides, padding, data_format, dilation_rate)
        if pads is None:
            _counts["fallback"] += 1
            return original(inputs, kernel, strides, padding, data_format, dilation_rate)
        _counts["fast"] += 1
        return _tap_sum_conv(inputs, kernel, pads)

    return conv


_PATCH = BackendPatch("conv", ENV_VAR, _make_patched)


def enable() -> bool:
    """Patch Keras' JAX conv. Returns True when the tap-sum lowering is active."""
    return _PATCH.enable()


def disable() -> bool:
    """Restore Keras' own function. Returns True if it was enabled."""
    return _PATCH.disable()


def is_enabled() -> bool:
    return _PATCH.is_enabled()
