"""Fused steps: each execution of `steps_per_execution` batches as ONE compiled JAX program.

Why
---
With `steps_per_execution=k > 1`, Keras 3's JAX trainer (3.15.1,
`JAXTrainer._make_function`) still calls the jitted `train_step` once per
batch from Python: `k` dispatches, `k` host-to-device copies and `k` pytree
flattenings of the whole training state; only the batch callbacks run less
often. At batch 32 on a small MLP that per-step work is a large part of the
step (see `benchmarks/run_all.py --only defaults` and the README).

What it does
------------
`install(model)` keeps Keras' own train function (`make_train_function()`)
and sets `model.train_function` (the attribute Keras' `fit` calls, and
builds only while it is None) to a `FusedTrainFunction`. For each execution
it takes the next `k` batches from Keras' own data iterator, stacks those
that have the structure, shapes and dtypes of the first batch it saw (NumPy
arrays only), and runs Keras' own `model.train_step` on them inside one
jitted `jax.lax.fori_loop`, with the state donated, as Keras donates it to
its step. The trip count is an argument, so a short last execution runs in
the same compiled program (its stack padded with copies of its last batch,
which the loop never reaches). Its logs are the last step's, as in Keras'
loop. At most `MAX_IN_FLIGHT` executions are dispatched and not yet done:
JAX runs them asynchronously, and each waiting one holds its stacked
batches, so without a bound a small model's queue (and the memory of a
streamed epoch) grew as far as Python ran ahead: `benchmarks/memory.py`'s
streamed epoch peaked at +380-508 MiB over a tiny run, +166-183 MiB with
the bound. An execution waits for the one before the last, which is
usually done by then, so the bound costs no throughput. Everything else
goes to Keras' own function, unchanged and after the fused steps before
it: an epoch's smaller last batch, batches that are not
NumPy arrays, and `train_on_batch`. A plain `lax.scan` over the batches ran
at the same speed, and unrolling the loop body (2, 4, 8 steps) saved no CPU
time but doubled the compile time.

Nothing of the loss, the optimizer, the metrics or the random seed
generators is computed here: the loop body is `model.train_step`, whose state
(trainable, non-trainable (seed generators among them), optimizer and metric
variables) is the loop's carry, so it advances exactly as in Keras' loop.
Seeded runs give bit-identical weights, optimizer state, metrics and later
dropout masks with and without it (jax/jaxlib 0.10.2, keras 3.15.1, CPU;
`tests/engine/test_fused_steps.py` asserts it).

When it is not used
-------------------
Only on the JAX backend on the CPU (on an accelerator Keras' loop copies each
batch to the device one step ahead; that case is untested here, so it keeps
Keras' path), with `jit_compile` on, `run_eagerly` off, more than
one step per execution, no `keras.distribution` set (sharded and
data-parallel runs keep Keras' path, whose `out_shardings` this does not
reproduce), Flax NNX off, and `KERASCLI_FUSED_STEPS` not `0`.
`validation` and `evaluate` keep Keras' test function.
"""

from __future__ import annotations

import collections
import itertools
import os

ENV_VAR = "KERASCLI_FUSED_STEPS"
# Executions dispatched and not yet known to be done. JAX dispatches asynchronously: without a bound,
# Python stacks the next executions' batches faster than a small model computes them, and every
# waiting execution holds its stacked batches (32 x 1024 x 128 float32 batches: 16 MiB each).
MAX_IN_FLIGHT = 2


def unavailable(model) -> str | None:
    """Why `model` must keep Keras' own train function, or None when the fused one applies.

    Args:
        model: a compiled Keras model.

    Returns:
        A short reason (for `run.json`'s settings and tests), or None.
    """
    from kerascli.engine.keras_import import load_keras  # noqa: PLC0415 - Keras is running already

    keras = load_keras()
    if os.environ.get(ENV_VAR, "1") == "0":
        return f"{ENV_VAR}=0"
    if keras.backend.backend() != "jax":
        return "not the JAX backend"
    import jax  # noqa: PLC0415 - the running backend

    if jax.default_backend() != "cpu":  # Keras' loop moves batches to an accelerator ahead: not measured here
        return f"not the CPU ({jax.default_backend()})"
    if getattr(model, "steps_per_execution", 1) <= 1:
        return "one step per execution"
    if model.run_eagerly or not model.jit_compile:
        return "not jit-compiled"
    if keras.distribution.distribution() is not None:
        return "a keras.distribution is set"
    if keras.config.is_nnx_enabled():
        return "Flax NNX is enabled"
    return None


def install(model) -> bool:
    """Makes `model.fit` run each full execution as one compiled program, where that is safe.

    Call it after `model.compile` and before `model.fit` (`compile` resets
    the train function: call it again after a recompile).

    Args:
        model: a compiled Keras model.

    Returns:
        Whether the fused train function is installed.
    """
    if isinstance(model.train_function, FusedTrainFunction):
        return True
    if unavailable(model) is not None:
        return False
    model.make_train_function()  # Keras' own: what every execution it cannot fuse runs
    model.train_function = FusedTrainFunction(model, model.train_function)
    return True


class FusedTrainFunction:
    """`model.train_function` that runs the steps of one execution in one compiled loop (see the module).

    The loop's trip count is an argument: the short last execution of an
    epoch runs in the same program (its stack padded with copies of its last
    batch, which the loop never reaches). Batches unlike the first one it
    saw (the smaller last batch of an epoch) go to Keras' own function, after
    the fused steps before them.

    Args:
        model: the compiled Keras model (JAX backend).
        keras_function: Keras' own train function, `(state, iterator) ->
            (logs, state)`, for the batches it does not fuse.

    Attributes:
        fused: executions whose steps (all, or those before an unlike batch) ran as one program, so far.
        stepwise: executions with steps handed to Keras' own function, so far.
    """

    def __init__(self, model, keras_function):
        import jax  # noqa: PLC0415 - JAX is the running backend

        self.steps = int(model.steps_per_execution)
        self.keras_function = keras_function
        self.fused = 0
        self.stepwise = 0
        self._signature = None  # (treedef, shapes and dtypes) of the batches it fuses

        def program(state, batches, count):
            def step(index, carry):
                batch = jax.tree_util.tree_map(
                    lambda a: jax.lax.dynamic_index_in_dim(a, index, keepdims=False), batches
                )
                logs, state = model.train_step(carry[0], batch)
                return state, logs

            first = jax.tree_util.tree_map(lambda a: a[0], batches)
            logs = jax.tree_util.tree_map(
                lambda s: jax.numpy.zeros(s.shape, s.dtype), jax.eval_shape(model.train_step, state, first)[0]
            )
            state, logs = jax.lax.fori_loop(0, count, step, (state, logs))
            return logs, state

        self._program = jax.jit(program, donate_argnums=0)
        self._in_flight = collections.deque()  # the logs of the executions dispatched last

    def __call__(self, state, iterator):
        import numpy as np  # noqa: PLC0415

        batches = list(itertools.islice(iterator, self.steps))
        if self._signature is None and batches:
            self._signature = _signature(batches[0])
        alike = 0
        while alike < len(batches) and self._signature is not None and _signature(batches[alike]) == self._signature:
            alike += 1
        logs = None
        if alike:
            self.fused += 1
            logs, state = self._program(state, _stack(batches[:alike], self.steps), np.int32(alike))
            self._wait_for_older_executions(logs)
        if alike < len(batches) or not batches:  # no batch left: Keras' function raises StopIteration
            self.stepwise += 1
            logs, state = self.keras_function(state, iter(batches[alike:]))
        return logs, state

    def _wait_for_older_executions(self, logs) -> None:
        """Waits until at most `MAX_IN_FLIGHT` executions are running or queued: their batches are freed."""
        import jax  # noqa: PLC0415

        self._in_flight.append(logs)
        while len(self._in_flight) > MAX_IN_FLIGHT:
            jax.block_until_ready(self._in_flight.popleft())


def _signature(batch):
    """The structure, shapes and dtypes of a batch of NumPy arrays, or None for anything else."""
    import jax  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    leaves, treedef = jax.tree_util.tree_flatten(batch)
    if not leaves or not all(isinstance(leaf, np.ndarray) for leaf in leaves):
        return None
    return treedef, tuple((leaf.shape, leaf.dtype) for leaf in leaves)


def _stack(batches: list, size: int):
    """Batches alike stacked on a new first axis, padded to `size` with copies of the last one."""
    import jax  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    padded = batches + [batches[-1]] * (size - len(batches))
    return jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *padded)
