"""Weight initialisation in one compiled program: Keras' own initializers, compiled once per model.

Why
---
On the JAX backend every variable Keras creates runs its initializer eagerly:
`jax.random.uniform(key, (3, 3, 16, 16))` and friends are jitted functions,
so each new variable shape is a new XLA program. On jaxlib 0.10 XLA's CPU
backend spends seconds on each (LLVM unrolls and vectorises the small fixed
loops of the threefry counter), so building a small CNN spent 15-20 s
compiling initializers and loading a `.keras` file, which builds the layers
before reading the weights, paid the same again.

What kerascli does instead
--------------------------
`deferred_initialization()` is a context in which the model is built. Keras'
own mechanism for that, `keras.StatelessScope(initialize_variables=False)`,
records each new variable with its initializer instead of running it. On
leaving the context, kerascli

1. traces each recorded initializer (Keras' code, unchanged) into a jaxpr;
2. replays all of them inside ONE jitted program, with an
   `optimization_barrier` after every operation that eager Keras would have
   run as its own program, and the seeds and scalar operands passed as
   program arguments, exactly as eager dispatch passes them;
3. hashes the random bits of every draw in one threefry computation
   (`kerascli.engine.threefry_batch`): the replays run side by side and each
   `random_bits` they reach is answered from a shared batch, so XLA compiles
   one threefry kernel instead of one per draw (MobileNetV2's 53 draws: its
   compile went from 2.7 s to 1.0 s);
4. compiles that program with `xla_backend_optimization_level=1` (LLVM O1
   instead of O2: no full unrolling, the same floating-point rules) and
   gives every variable its value.

Exactness: the barriers keep XLA from fusing or re-associating across the
boundaries eager execution has, LLVM O1 and O2 contract the same
multiply-adds, and the shared hash gives each draw its own bits (integers:
nothing rounds), so the weights are bit-identical to what plain Keras draws
from the same seed: `tests/engine/test_initialization.py` checks uniform,
normal, truncated-normal, orthogonal, constant, BatchNorm, GRU and Dropout
draws, `benchmarks/build_latency.py` configs/resnet.yaml and MobileNetV2
(while developing it, LSTM, attention, embedding, depthwise, separable and
transposed convolutions matched too). O0
would compile faster still but does not contract multiply-adds, which moves
about half of the draws by one ulp, so it is not used.

A value assigned inside the context (a `.keras` file's weights while it
loads) is used as the variable's initial value and its initializer is never
run at all.

Where it does not apply, Keras' own per-variable path runs: other backends,
Flax NNX, a variable with a distribution layout, an initializer seeded by a
`keras.random.SeedGenerator` (its draw changes state), and a build that
needs a variable's value while it is still being built (Keras then computes
that one eagerly, as usual). `KERASCLI_FAST_INIT=0` switches the lever off.

Version fragility: this uses Keras internals checked against Keras 3.15.1 (the
`uninitialized_variables` list in `keras.src.backend.common.global_state`, a
variable's `_initializer`, `_shape`, `_dtype`, `_initialize`) and
`jax.extend.core.Literal`; where they are missing the lever is off.
"""

from __future__ import annotations

import contextlib
from typing import Any, Generator, Iterator

from kerascli.engine import threefry_batch
from kerascli.engine.keras_import import load_keras, switched_off

SWITCH_ENV = "KERASCLI_FAST_INIT"
COMPILER_OPTIONS = {"xla_backend_optimization_level": 1}
_PENDING = "uninitialized_variables"


def enabled() -> bool:
    """Whether the lever applies: JAX backend, no NNX, not switched off."""
    if switched_off(SWITCH_ENV):
        return False
    keras = load_keras()
    if keras.backend.backend() != "jax" or keras.config.is_nnx_enabled():
        return False
    try:
        from jax.extend.core import Literal  # noqa: F401, PLC0415
        from keras.src.backend.common import global_state  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def deferred_initialization() -> Iterator[None]:
    """Builds Keras variables created inside, all at once, on leaving the context.

    Everything else Keras does inside runs as usual; only variable values
    wait (reading one early computes it eagerly). Assignments made inside,
    such as loading saved weights, become the variables' initial values.
    """
    if not enabled():
        yield
        return
    keras = load_keras()
    from keras.src.backend.common import global_state  # noqa: PLC0415

    if keras.src.backend.common.stateless_scope.in_stateless_scope():
        yield  # inside another deferred build (or Keras' own tracing): that one gives the values
        return
    before = list(global_state.get_global_attribute(_PENDING, None) or [])
    scope = keras.StatelessScope(initialize_variables=False)
    try:
        with scope:
            yield
    except BaseException:
        # The build failed: its half-built variables are dropped, not drawn.
        global_state.set_global_attribute(_PENDING, before)
        raise
    created = [v for v in global_state.get_global_attribute(_PENDING, None) or [] if not _among(v, before)]
    global_state.set_global_attribute(_PENDING, before)
    _give_values(created, scope)


def _among(variable: Any, variables: list) -> bool:
    return any(variable is other for other in variables)


def _give_values(variables: list, scope: Any) -> None:
    """Initial values for `variables`: assigned in `scope`, else drawn together."""
    assigned_ids = set(scope.state_mapping)
    to_draw = []
    for variable in variables:
        value = scope.get_current_value(variable)
        assigned_ids.discard(id(variable))
        if value is not None:
            _set_initial(variable, value)
        elif _drawable(variable):
            to_draw.append(variable)
        else:
            variable._deferred_initialize()
    if assigned_ids:
        raise RuntimeError(
            f"{len(assigned_ids)} variable(s) created before deferred_initialization() were assigned inside it; "
            "assign existing variables outside the context"
        )
    draw_together(to_draw)


def _set_initial(variable: Any, value: Any) -> None:
    variable._initialize(value)
    variable._initializer = None


def _drawable(variable: Any) -> bool:
    """Whether the variable's initializer can be replayed in the shared program."""
    random = load_keras().random
    variable._initialize_layout()
    if variable._layout is not None:  # sharded variables keep Keras' own jitted path
        return False
    return not isinstance(getattr(variable._initializer, "seed", None), random.SeedGenerator)


def draw_together(variables: list) -> None:
    """Runs the initializers of uninitialised `variables` as one compiled program.

    Args:
        variables: Keras variables recorded (not yet initialised) by a
            `keras.StatelessScope`; each gets its value.
    """
    plans, replayed = [], []
    for variable in variables:
        try:
            plans.append(plan(variable))
        except Exception:  # noqa: BLE001 - an initializer that cannot be traced runs the Keras way
            variable._deferred_initialize()
            continue
        replayed.append(variable)
    if not plans:
        return
    program, operands = drawing_program(plans)
    for variable, value in zip(replayed, program(operands)):
        _set_initial(variable, value)


def drawing_program(plans: list[tuple[Any, list]]) -> tuple[Any, list]:
    """The jitted program replaying the planned initializers (see `plan`), and its operands."""
    import jax  # noqa: PLC0415

    jaxprs = [jaxpr for jaxpr, _ in plans]

    def draw(operands):
        return _in_rounds([_replay(jaxpr, ops) for jaxpr, ops in zip(jaxprs, operands)])

    return jax.jit(draw, compiler_options=COMPILER_OPTIONS), [ops for _, ops in plans]


def _in_rounds(replays: list) -> list:
    """Runs replay generators side by side; the random bits they wait on are drawn together each round.

    Each replay yields a `(key, bit_width, shape)` request when it reaches a
    batchable `random_bits` and is sent that draw's bits; one round draws the
    bits of every replay waiting, so a model whose initializers each draw
    once compiles a single threefry kernel.
    """
    results: list = [None] * len(replays)
    replies: dict[int, Any] = dict.fromkeys(range(len(replays)))
    while replies:
        requests = {}
        for index, reply in replies.items():
            try:
                requests[index] = replays[index].send(reply)
            except StopIteration as finished:
                results[index] = finished.value
        replies = dict(zip(requests, threefry_batch.bits_together(list(requests.values())))) if requests else {}
    return results


def plan(variable: Any) -> tuple[Any, list]:
    """The initializer's jaxpr, and its operands: constants first, then literal operands in order."""
    import jax  # noqa: PLC0415
    from jax.extend.core import Literal  # noqa: PLC0415

    closed = jax.make_jaxpr(lambda: variable._initializer(variable._shape, dtype=variable._dtype))()
    operands = list(closed.consts)
    for eqn in closed.jaxpr.eqns:
        operands += [atom.val for atom in eqn.invars if isinstance(atom, Literal)]
    return closed.jaxpr, operands


def _replay(jaxpr: Any, operands: list) -> Generator:
    """Evaluates `jaxpr` operation by operation, fenced as eager dispatch would run it (a generator: see `_in_rounds`)."""
    from jax.extend.core import Literal  # noqa: PLC0415

    supply = iter(operands)
    env = {var: next(supply) for var in jaxpr.constvars}
    for eqn in jaxpr.eqns:
        args = [next(supply) if isinstance(atom, Literal) else env[atom] for atom in eqn.invars]
        out = yield from _evaluate(eqn, args)
        env.update(zip(eqn.outvars, _fence(out)))
    (result,) = [atom.val if isinstance(atom, Literal) else env[atom] for atom in jaxpr.outvars]
    return result


def _evaluate(eqn: Any, args: list) -> Generator:
    """One operation's outputs. Random bits are requested from the round; a jit that draws them is inlined."""
    name = eqn.primitive.name
    if name == "random_bits" and threefry_batch.batchable(args[0], eqn.params["bit_width"], eqn.params["shape"]):
        bits = yield (args[0], eqn.params["bit_width"], tuple(eqn.params["shape"]))
        return [bits]
    if name in ("jit", "pjit") and _draws_bits(eqn.params["jaxpr"].jaxpr):
        return (yield from _inline(eqn.params["jaxpr"], args))
    with eqn.ctx.manager:
        out = eqn.primitive.bind(*args, **eqn.primitive.get_bind_params(eqn.params))
    return list(out) if eqn.primitive.multiple_results else [out]


def _inline(closed: Any, args: list) -> Generator:
    """A jitted function's body evaluated in place: XLA inlines the call anyway, so it compiles the same."""
    from jax.extend.core import Literal  # noqa: PLC0415

    jaxpr = closed.jaxpr
    env = dict(zip(jaxpr.constvars, closed.consts)) | dict(zip(jaxpr.invars, args))
    for eqn in jaxpr.eqns:
        out = yield from _evaluate(eqn, [atom.val if isinstance(atom, Literal) else env[atom] for atom in eqn.invars])
        env.update(zip(eqn.outvars, out))
    return [atom.val if isinstance(atom, Literal) else env[atom] for atom in jaxpr.outvars]


def _draws_bits(jaxpr: Any) -> bool:
    """Whether `jaxpr`, or a jit inside it, has a `random_bits` operation."""
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "random_bits":
            return True
        if eqn.primitive.name in ("jit", "pjit") and _draws_bits(eqn.params["jaxpr"].jaxpr):
            return True
    return False


def _fence(values: list) -> list:
    """`values` behind an optimization barrier (PRNG key arrays pass through: XLA sees their bits)."""
    import jax  # noqa: PLC0415

    plain = [i for i, v in enumerate(values) if not jax.dtypes.issubdtype(v.dtype, jax.dtypes.extended)]
    if plain:
        fenced = jax.lax.optimization_barrier([values[i] for i in plain])
        for i, value in zip(plain, fenced):
            values[i] = value
    return values


def build_optimizer(model: Any) -> None:
    """Creates a compiled model's optimizer variables now, in one program (Keras would in `fit`)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built:
        return
    with deferred_initialization():
        optimizer.build(model.trainable_variables)
