"""Random bits of many draws from one threefry computation: the bits `jax.random.bits` gives, per draw.

Why
---
XLA's CPU compiler spends most of an initializer program's compile time on
the threefry hash: every draw of a new shape is its own copy of that kernel
(about 0.05 s each at LLVM O1), so a model with 50 random kernels paid for
50 of them. Under JAX's default `jax_threefry_partitionable=True` the bits
of `random_bits(key, shape)` are `threefry2x32(key, i)` of each element's
row-major index `i`, an elementwise function of (key, counter). Hashing the
counters of all draws side by side, each beside its own key, in one
`threefry2x32_p` over the concatenation gives every draw exactly its own
bits (integer arithmetic: no rounding to differ), from one kernel.

The counters and the last step (XOR of the two words, or the 64-bit and
narrow forms) follow `jax._src.random.threefry2x32._threefry_random_bits_partitionable`;
`tests/engine/test_threefry_batch.py` checks the result against
`jax.random.bits` for every width. Anything else (another PRNG, the
non-partitionable threefry, a batch of keys, an empty shape) is not batched.
"""

from __future__ import annotations

import math
from typing import Any

from kerascli.engine import ragged

_WIDTHS = {8: "uint8", 16: "uint16", 32: "uint32", 64: "uint64"}
_MAX_ELEMENTS = 2**32  # counters beyond 32 bits would need the high word


def batchable(key: Any, bit_width: int, shape: tuple) -> bool:
    """Whether `random_bits(key, bit_width, shape)` can be drawn in a shared threefry batch."""
    import jax  # noqa: PLC0415
    from jax.extend.random import threefry_prng_impl  # noqa: PLC0415

    if not jax.config.jax_threefry_partitionable or bit_width not in _WIDTHS:
        return False
    if getattr(key, "shape", None) != () or getattr(key.dtype, "_impl", None) is not threefry_prng_impl:
        return False
    if not all(isinstance(d, int) for d in shape):
        return False
    return 0 < math.prod(shape) < _MAX_ELEMENTS


def bits_together(groups: list[list[tuple[Any, int, tuple]]]) -> list[Any]:
    """The random bits of each group of `(key, bit_width, shape)` requests, from one threefry hash.

    Args:
        groups: lists of draws, each a scalar threefry key (traced or
            concrete) with the bit width and shape of its draw; each draw must
            pass `batchable`, and the draws of one group share a bit width.

    Returns:
        One flat unsigned-integer array per group: the bits of its draws in
        order, each equal to `jax.random.bits(key, shape, dtype=uint{bit_width}).ravel()`.
    """
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    from jax.extend.random import threefry2x32_p  # noqa: PLC0415

    requests = [request for group in groups for request in group]
    sizes = [math.prod(shape) for _, _, shape in requests]
    total = sum(sizes)
    if total >= _MAX_ELEMENTS:
        raise ValueError(f"bits_together: {total} random bits in one batch; expected fewer than 2**32")
    segment, counts_low = ragged.segment_index(sizes)
    words = jnp.stack([jax.random.key_data(key).astype(np.uint32) for key, _, _ in requests])[segment]
    keys1, keys2 = words[:, 0], words[:, 1]
    counts_high = jnp.zeros((total,), np.uint32)
    bits1, bits2 = threefry2x32_p.bind(keys1, keys2, counts_high, counts_low)
    results, start = [], 0
    for group in groups:
        (bit_width,) = {width for _, width, _ in group}
        end = start + sum(math.prod(shape) for _, _, shape in group)
        results.append(_combine(bits1[start:end], bits2[start:end], bit_width))
        start = end
    return results


def _combine(first: Any, second: Any, bit_width: int) -> Any:
    """The draw's bits from threefry's two output words, as JAX forms them for `bit_width`."""
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    dtype = _WIDTHS[bit_width]
    if bit_width == 64:
        high = jax.lax.convert_element_type(first, dtype)
        low = jax.lax.convert_element_type(second, dtype)
        return jax.lax.shift_left(high, jnp.asarray(32, dtype=dtype)) | low
    if bit_width == 32:
        return first ^ second
    return jax.lax.convert_element_type(first ^ second, dtype)
