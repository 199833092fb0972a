"""One threefry hash for many draws gives each draw the bits `jax.random.bits` gives it."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from kerascli.engine import threefry_batch

SHAPES = [(3, 3, 1, 8), (7,), (1,), (16, 10), (2, 3, 5)]


def requests(bit_width: int) -> list[tuple]:
    return [(jax.random.key(seed), bit_width, shape) for seed, shape in zip((0, 1, 7, 2**31 - 1, 42), SHAPES)]


def alone(key, bit_width: int, shape: tuple) -> bytes:
    return np.asarray(jax.random.bits(key, shape, dtype=f"uint{bit_width}")).tobytes()


@pytest.mark.parametrize("bit_width", [8, 16, 32])
def test_each_draw_gets_exactly_its_own_bits(bit_width):
    batch = requests(bit_width)
    together = jax.jit(lambda keys: threefry_batch.bits_together([[(k, w, s)] for k, (_, w, s) in zip(keys, batch)]))(
        [key for key, _, _ in batch]
    )
    for (key, _, shape), bits in zip(batch, together):
        assert bits.shape == (int(np.prod(shape)),) and bits.dtype == f"uint{bit_width}"
        assert np.asarray(bits).tobytes() == alone(key, bit_width, shape)


def test_a_group_gets_its_draws_bits_side_by_side():
    batch = requests(32)
    first, rest = threefry_batch.bits_together([batch[:1], batch[1:]])
    assert np.asarray(first).tobytes() == alone(*batch[0])
    assert np.asarray(rest).tobytes() == b"".join(alone(*request) for request in batch[1:])


def test_64_bit_draws_match_under_x64():
    with jax.enable_x64(True):
        batch = requests(64)
        together = threefry_batch.bits_together([[request] for request in batch])
        for request, bits in zip(batch, together):
            assert np.asarray(bits).tobytes() == alone(*request)


def test_only_scalar_threefry_keys_of_sized_draws_are_batched():
    assert threefry_batch.batchable(jax.random.key(0), 32, (3, 4))
    assert not threefry_batch.batchable(jax.random.split(jax.random.key(0), 2), 32, (3,))  # a batch of keys
    assert not threefry_batch.batchable(jax.random.key(0, impl="rbg"), 32, (3,))  # another PRNG
    assert not threefry_batch.batchable(jax.random.key(0), 32, (0, 4))  # nothing to draw
    assert not threefry_batch.batchable(jax.random.key(0), 12, (3,))  # not a width JAX draws


def hash_loops(draw) -> int:
    """How many threefry hashes (each a rolled loop on the CPU) the program of `draw` compiles."""
    keys = [jax.random.key(i) for i in range(len(SHAPES))]
    return jax.jit(draw).lower(keys).as_text().count("stablehlo.while")


def test_the_shared_program_hashes_once_for_all_draws():
    assert hash_loops(lambda keys: [jax.random.bits(k, s) for k, s in zip(keys, SHAPES)]) == len(SHAPES)
    assert hash_loops(lambda keys: threefry_batch.bits_together([[(k, 32, s) for k, s in zip(keys, SHAPES)]])) == 1
