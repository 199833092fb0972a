"""Initializer jaxprs replayed inside one traced program, as eager Keras would have run them.

Each replay is a generator (see `in_rounds`): it evaluates its jaxpr
operation by operation with an `optimization_barrier` after every top-level
operation (eager dispatch runs each as its own program, so XLA must neither
fuse nor re-associate across them), and where it reaches a `random_bits`
that `threefry_batch` can draw it yields the request and waits for the bits.
"""

from __future__ import annotations

from typing import Any, Generator

from kerascli.engine import threefry_batch

JIT_PRIMITIVES = ("jit", "pjit")


def in_rounds(replays: list[Generator]) -> list:
    """Runs replay generators side by side; the random bits they wait on are drawn together each round.

    Each replay yields a list of request groups when it needs random bits (a
    group: a list of `(key, bit_width, shape)` draws) and is sent one flat
    array of bits per group (see `threefry_batch.bits_together`); one round
    draws the bits of every replay waiting, so a model whose initializers
    each draw once compiles a single threefry kernel.

    Returns:
        What each replay returned, in order.
    """
    results: list = [None] * len(replays)
    replies: dict[int, Any] = dict.fromkeys(range(len(replays)))
    while replies:
        waiting = {}
        for index, reply in replies.items():
            try:
                waiting[index] = replays[index].send(reply)
            except StopIteration as finished:
                results[index] = finished.value
        flat = [request for requests in waiting.values() for request in requests]
        bits = iter(threefry_batch.bits_together(flat) if flat else [])
        replies = {index: [next(bits) for _ in requests] for index, requests in waiting.items()}
    return results


def replay(jaxpr: Any, operands: list) -> Generator:
    """Evaluates one initializer's `jaxpr` on its operands (constants, then literal operands in order)."""
    from jax.extend.core import Literal  # noqa: PLC0415

    supply = iter(operands)
    env = {var: next(supply) for var in jaxpr.constvars}
    for eqn in jaxpr.eqns:
        args = [next(supply) if isinstance(atom, Literal) else env[atom] for atom in eqn.invars]
        out = yield from evaluate(eqn, args)
        env.update(zip(eqn.outvars, fence(out)))
    (result,) = [atom.val if isinstance(atom, Literal) else env[atom] for atom in jaxpr.outvars]
    return result


def evaluate(eqn: Any, args: list) -> Generator:
    """One operation's outputs. Random bits are requested from the round; a jit that draws them is inlined."""
    name = eqn.primitive.name
    if name == "random_bits" and threefry_batch.batchable(args[0], eqn.params["bit_width"], eqn.params["shape"]):
        shape = tuple(eqn.params["shape"])
        (bits,) = yield [[(args[0], eqn.params["bit_width"], shape)]]
        return [bits.reshape(shape)]
    if name in JIT_PRIMITIVES and draws_bits(eqn.params["jaxpr"].jaxpr):
        return (yield from _inline(eqn.params["jaxpr"], args))
    return bind(eqn, args)


def bind(eqn: Any, args: list) -> list:
    """`eqn`'s primitive applied to `args`, as a list of outputs."""
    with eqn.ctx.manager:
        out = eqn.primitive.bind(*args, **eqn.primitive.get_bind_params(eqn.params))
    return list(out) if eqn.primitive.multiple_results else [out]


def _inline(closed: Any, args: list) -> Generator:
    """A jitted function's body evaluated in place: XLA inlines the call anyway, so it compiles the same."""
    from jax.extend.core import Literal  # noqa: PLC0415

    jaxpr = closed.jaxpr
    env = dict(zip(jaxpr.constvars, closed.consts)) | dict(zip(jaxpr.invars, args))
    for eqn in jaxpr.eqns:
        out = yield from evaluate(eqn, [atom.val if isinstance(atom, Literal) else env[atom] for atom in eqn.invars])
        env.update(zip(eqn.outvars, out))
    return [atom.val if isinstance(atom, Literal) else env[atom] for atom in jaxpr.outvars]


def draws_bits(jaxpr: Any) -> bool:
    """Whether `jaxpr`, or a jit inside it, has a `random_bits` operation."""
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "random_bits":
            return True
        if eqn.primitive.name in JIT_PRIMITIVES and draws_bits(eqn.params["jaxpr"].jaxpr):
            return True
    return False


def fence(values: list) -> list:
    """`values` behind an optimization barrier (PRNG key arrays pass through: XLA sees their bits)."""
    import jax  # noqa: PLC0415

    plain = [i for i, v in enumerate(values) if not jax.dtypes.issubdtype(v.dtype, jax.dtypes.extended)]
    if plain:
        fenced = jax.lax.optimization_barrier([values[i] for i in plain])
        for i, value in zip(plain, fenced):
            values[i] = value
    return values
