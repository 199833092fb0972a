"""Speed levers: what kerascli does, beyond plain Keras, so that training runs faster.

Levers, each with a switch, computing the model the user asked for (the
start-up ones — compilation cache, XLA flags, a lighter `import keras` —
live in `kerascli.engine.keras_import`):

- **`steps_per_execution: auto`** (the default of `compile.steps_per_execution`):
  Keras runs the batch callbacks (the progress bar among them) once per
  execution, so several steps per execution means less Python work per step.
  `auto` picks up to `MAX_AUTO_STEPS` steps while keeping at least
  `MIN_UPDATES_PER_EPOCH` progress updates per epoch, and stays at 1 where
  that would change behaviour: on torch (which rejects values above 1) and
  when a configured callback acts on single batches.
- **Fast max pooling** on JAX (`compile.fast_pool`, default on;
  `KERASCLI_FAST_POOL=0` turns it off): non-overlapping max pools run as
  the max of strided window slices, with Keras' own gradient (to each
  window's first maximum), see `kerascli.engine.jax_pool`.
- **Fused steps** on JAX (`KERASCLI_FUSED_STEPS=0` turns them off): Keras'
  JAX trainer still dispatches one jitted `train_step` per batch when
  `steps_per_execution > 1`; kerascli runs each full execution as one
  compiled program, a `lax.fori_loop` of Keras' own `train_step` over the stacked
  batches, bit-identical to Keras' loop, see `kerascli.engine.fused_steps`.
"""

from __future__ import annotations

from typing import Any

AUTO = "auto"
MAX_AUTO_STEPS = 32
MIN_UPDATES_PER_EPOCH = 20
BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")


def steps_per_epoch(rows: int, batch_size: int, requested: int | None = None) -> int:
    """The number of batches in one epoch of `fit`."""
    if requested:
        return requested
    return max(1, -(-rows // batch_size))


def acts_per_batch(callback: Any) -> bool:
    """Whether a Keras callback (class or instance) overrides a per-batch training hook.

    `ModelCheckpoint(save_freq=N)`, `TensorBoard(update_freq=N)` and the
    like count batches by their hook calls: with several steps per execution
    they would count executions instead.
    """
    from kerascli.engine.keras_import import load_keras  # noqa: PLC0415 - Keras is running already

    keras = load_keras()

    if callback is None:
        return False
    cls = callback if isinstance(callback, type) else type(callback)
    base = keras.callbacks.Callback
    return any(getattr(cls, hook, None) is not getattr(base, hook) for hook in BATCH_HOOKS)


def steps_per_execution(requested: int | str, backend_name: str, steps: int, callbacks: list = ()) -> int:
    """The `steps_per_execution` to compile with.

    Args:
        requested: the config's value: a positive integer (kept as it is) or
            `"auto"`.
        backend_name: the active Keras backend.
        steps: batches per epoch.
        callbacks: the user's callbacks, classes or instances (kerascli's
            own progress display is not among them: it is made for any step
            count).

    Returns:
        A positive integer.
    """
    if requested != AUTO:
        return int(requested)
    if backend_name == "torch" or any(acts_per_batch(cb) for cb in callbacks):
        return 1
    return max(1, min(MAX_AUTO_STEPS, steps // MIN_UPDATES_PER_EPOCH))


def fast_pool(requested: bool) -> bool:
    """Turns kerascli's JAX max-pool rewrite (and its few-tap conv lowering) on or off, before the model is built.

    Args:
        requested: the config's `compile.fast_pool`.

    Returns:
        Whether the max-pool rewrite is active: False on other backends, and
        when `KERASCLI_FAST_POOL=0` is set.
    """
    from kerascli.engine import jax_pool  # noqa: PLC0415

    fast_conv(requested)
    if requested:
        return jax_pool.enable()
    jax_pool.disable()
    return False


def fused_steps(model) -> bool:
    """Runs each full execution of `model.fit` as one compiled program where that is safe.

    Call it after `model.compile` (which resets Keras' train function) and
    before `model.fit`.

    Args:
        model: the compiled Keras model.

    Returns:
        Whether the fused train function is installed: False on other
        backends, with one step per execution, under a `keras.distribution`,
        and when `KERASCLI_FUSED_STEPS=0` is set.
    """
    from kerascli.engine import fused_steps as fused  # noqa: PLC0415

    return fused.install(model)


def fast_conv(requested: bool) -> bool:
    """Turns the few-tap convolution lowering (`kerascli.engine.jax_conv`) on or off.

    Args:
        requested: the config's `compile.fast_pool`, which switches both lowerings.

    Returns:
        Whether it is active: False on other backends and when
        `KERASCLI_FAST_CONV=0` is set.
    """
    from kerascli.engine import jax_conv  # noqa: PLC0415

    if requested:
        return jax_conv.enable()
    jax_conv.disable()
    return False
