"""Arrays of different sizes side by side in one flat array: which segment each element belongs to."""

from __future__ import annotations

from typing import Any


def segment_index(sizes: list[int]) -> tuple[Any, Any]:
    """Each element's segment, and its row-major index within it, for segments of `sizes` laid end to end.

    Args:
        sizes: the element count of each segment, in order (each at least 1).

    Returns:
        `(segment, position)`: int32 and uint32 arrays of `sum(sizes)`
        elements, computed in the program (no large constant is embedded).
    """
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    starts = np.cumsum([0, *sizes[:-1]], dtype=np.uint32)
    counter = jax.lax.iota(np.uint32, int(sum(sizes)))
    segment = jnp.searchsorted(jnp.asarray(starts[1:]), counter, side="right", method="compare_all")
    return segment, counter - jnp.asarray(starts)[segment]


def spread(scalars: list[Any], segment: Any, dtype: Any) -> Any:
    """The flat array whose elements of segment `i` all equal `scalars[i]` (size-1 values), as `dtype`."""
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    stacked = jnp.stack([jax.lax.convert_element_type(jnp.reshape(s, ()), dtype) for s in scalars])
    return stacked[segment]
