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
4. replays the constants (zeros, ones: 209 of MobileNetV2's 262 variables)
   of one dtype as one group over their elements side by side
   (`kerascli.engine.grouped_replay`), one kernel instead of one each;
5. compiles that program with `xla_backend_optimization_level=1` (LLVM O1
   instead of O2: no full unrolling, the same floating-point rules), with
   XLA's `cse_barrier_expander` pass off, so the barriers reach the fusion
   passes (XLA's CPU pipeline drops them before fusing otherwise), and with
   XLA's elemental kernel emitters (`xla_cpu_use_fusion_emitters: False`,
   ~40% less compile for the 53 draws of MobileNetV2), and gives every
   variable its value.

Exactness: the barriers keep XLA from fusing or re-associating across the
boundaries eager execution has, LLVM O1 and O2 contract the same
multiply-adds within them, the shared hash gives each draw its own bits
(integers: nothing rounds) and a group only copies and converts, so the
weights are bit-identical to what plain Keras draws from the same seed.
`tests/engine/test_initialization.py` checks uniform, normal,
truncated-normal, variance-scaling, orthogonal, constant, BatchNorm, GRU and
Dropout draws on many shapes and two dtypes, `benchmarks/build_latency.py`
configs/resnet.yaml and MobileNetV2 (while developing it, LSTM, attention,
embedding, depthwise, separable and transposed convolutions matched too).
Two things that looked faster are not used because they are not exact: O0
does not contract multiply-adds, which moves about half of the draws by one
ulp; grouping the arithmetic of random draws too moved some by one ulp
(`grouped_replay` says why). Until this stop the barriers were dropped, and
a `RandomNormal` with a mean other than 0 came out one ulp off in about a
third of its elements; its test covers that now.

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
variable's `_initializer`, `_shape`, `_dtype`, `_initialize`),
`jax.extend.core.Literal`, `jax.extend.random.threefry2x32_p` and the name of
XLA's `cse_barrier_expander` pass (jaxlib 0.10; an unknown name in
`xla_disable_hlo_passes` is ignored, and then the barrier test above fails);
where the Python names are missing the lever is off.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from kerascli.engine import grouped_replay, replay
from kerascli.engine.keras_import import load_keras, switched_off

SWITCH_ENV = "KERASCLI_FAST_INIT"
# LLVM O1 (see the module). XLA's CPU pipeline keeps the optimization barriers: by default it drops
# them before fusion (its `cse_barrier_expander` pass), which fused a normal draw's `* stddev` and `+ mean`,
# two programs in eager Keras, into one multiply-add (one ulp off for a third of the elements). XLA's
# elemental kernel emitters instead of its MLIR fusion emitters: ~40% less compile for the per-draw
# kernels, the same values (the sweep tests check them against eager Keras).
COMPILER_OPTIONS = {
    "xla_backend_optimization_level": 1,
    "xla_disable_hlo_passes": "cse_barrier_expander",
    "xla_cpu_use_fusion_emitters": False,
}
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
        from jax.extend.random import threefry2x32_p, threefry_prng_impl  # noqa: F401, PLC0415
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
    program, operands, unpack = drawing_program(plans)
    for variable, value in zip(replayed, unpack(program(operands))):
        _set_initial(variable, value)


def drawing_program(plans: list[tuple[Any, list]]) -> tuple[Any, list, Any]:
    """The jitted program replaying the planned initializers (see `plan`), its operands, and its unpacking.

    Returns:
        `(program, operands, unpack)`: `unpack(program(operands))` is the
        list of the initializers' values, in order.
    """
    import jax  # noqa: PLC0415

    jaxprs = [jaxpr for jaxpr, _ in plans]
    groups = _groups(jaxprs)

    def draw(operands):
        alone = [members[0] for members in groups if len(members) == 1]
        drawn = dict(zip(alone, replay.in_rounds([replay.replay(jaxprs[i], operands[i]) for i in alone])))
        return [
            drawn[members[0]]
            if len(members) == 1
            else grouped_replay.replay_group([jaxprs[i] for i in members], [operands[i] for i in members])
            for members in groups
        ]

    def unpack(outputs: list) -> list:
        values: list = [None] * len(jaxprs)
        for members, output in zip(groups, outputs):
            member_values = (
                [output] if len(members) == 1 else grouped_replay.split(output, [jaxprs[i] for i in members])
            )
            for index, value in zip(members, member_values):
                values[index] = value
        return values

    return jax.jit(draw, compiler_options=COMPILER_OPTIONS), [ops for _, ops in plans], unpack


def _groups(jaxprs: list) -> list[list[int]]:
    """The initializers' indices, those of one `grouped_replay.form` together, each alone otherwise."""
    by_form: dict = {}
    groups = []
    for index, jaxpr in enumerate(jaxprs):
        key = grouped_replay.form(jaxpr)
        if key is None:
            groups.append([index])
        elif key in by_form:
            by_form[key].append(index)
        else:
            by_form[key] = [index]
            groups.append(by_form[key])
    return groups


def plan(variable: Any) -> tuple[Any, list]:
    """The initializer's jaxpr, and its operands: constants first, then literal operands in order."""
    import jax  # noqa: PLC0415
    from jax.extend.core import Literal  # noqa: PLC0415

    closed = jax.make_jaxpr(lambda: variable._initializer(variable._shape, dtype=variable._dtype))()
    operands = list(closed.consts)
    for eqn in closed.jaxpr.eqns:
        operands += [atom.val for atom in eqn.invars if isinstance(atom, Literal)]
    return closed.jaxpr, operands


def build_optimizer(model: Any) -> None:
    """Creates a compiled model's optimizer variables now, in one program (Keras would in `fit`)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built:
        return
    with deferred_initialization():
        optimizer.build(model.trainable_variables)
