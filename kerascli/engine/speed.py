"""Fast defaults: what kerascli does, beyond plain Keras, so that training starts and runs faster.

Levers, each with a switch, computing the model the user asked for:

- **A persistent XLA compilation cache** (JAX): the compiled train, test and
  initializer functions are kept on disk, keyed by JAX on the program, the
  devices and the library versions, so running the same model again skips
  most of its compile time. It lives in `$KERASCLI_CACHE_DIR` (default
  `$XDG_CACHE_HOME/kerascli/xla`, i.e. `~/.cache/kerascli/xla`);
  `KERASCLI_COMPILATION_CACHE=0` turns it off, and a cache directory the
  user already gave JAX (`JAX_COMPILATION_CACHE_DIR`) is left alone.
- **`steps_per_execution: auto`** (the default of `compile.steps_per_execution`):
  Keras runs the batch callbacks (the progress bar among them) once per
  execution, so several steps per execution means less Python work per step.
  `auto` picks up to `MAX_AUTO_STEPS` steps while keeping at least
  `MIN_UPDATES_PER_EPOCH` progress updates per epoch, and stays at 1 where
  that would change behaviour: on torch (which rejects values above 1) and
  when a configured callback acts on single batches.
- **An XLA CPU flag** on JAX where it is known to help and to exist
  (`XLA_CPU_FLAGS`): keeping single convolutions out of YNNPACK fusions lifts
  a small CNN by 15–50% on jaxlib 0.10; it is appended to the user's
  `XLA_FLAGS` (never replacing them) before JAX starts, only for the jaxlib
  versions listed (an unknown flag aborts the process), and
  `KERASCLI_XLA_FLAGS=0` turns it off.
- **`import keras` without matplotlib**: Keras imports `matplotlib.pyplot`
  at start-up, when it is installed, only for its image-gallery helpers,
  which kerascli never calls; that is ~0.8 s of a ~2.3 s `import keras`
  here. `import_keras` hides matplotlib during the import (kerascli's own
  plots import it later, as usual).
- **Fast max pooling** on JAX (`compile.fast_pool`, default on;
  `KERASCLI_FAST_POOL=0` turns it off): non-overlapping max pools run as
  reshape + max, see `kerascli.engine.jax_pool`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

AUTO = "auto"
MAX_AUTO_STEPS = 32
MIN_UPDATES_PER_EPOCH = 20
CACHE_ENV = "KERASCLI_CACHE_DIR"
CACHE_SWITCH_ENV = "KERASCLI_COMPILATION_CACHE"
# Compilations quicker than this are not worth a file (JAX's default is 1 s,
# which skips most of a small model's compiles on a fast machine).
CACHE_MIN_COMPILE_SECONDS = 0.05
CACHE_MAX_BYTES = 2 << 30  # JAX evicts the least recently used entries beyond this (with filelock)
XLA_SWITCH_ENV = "KERASCLI_XLA_FLAGS"
# jaxlib version prefix -> flags checked to exist and to help there.
XLA_CPU_FLAGS = {
    "0.10.": ("--xla_cpu_experimental_ynn_fusion_type=-individual_convolution",),
}
# Optional imports Keras makes at start-up for helpers kerascli never calls.
HIDDEN_FROM_KERAS = ("matplotlib",)
BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")


def import_keras():
    """Imports Keras (the backend must be set) without its optional matplotlib import.

    Keras' `visualization` helpers then see matplotlib as missing in this
    process; nothing in kerascli uses them.

    Returns:
        The `keras` module.
    """
    hidden = [name for name in HIDDEN_FROM_KERAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # makes `import matplotlib` raise ImportError
    try:
        import keras  # noqa: PLC0415 - the caller chose the backend
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    return keras


def cache_dir() -> Path | None:
    """Where kerascli keeps compiled XLA programs, or None when switched off."""
    if _switched_off(CACHE_SWITCH_ENV):
        return None
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kerascli" / "xla"


def enable_compilation_cache(backend_name: str) -> str | None:
    """Turns on JAX's persistent compilation cache in `cache_dir()`.

    Call it after `import keras`, before anything is compiled.

    Args:
        backend_name: the active Keras backend; only `jax` has this cache.

    Returns:
        The cache directory in use (also one the user set for JAX), or None.
    """
    if backend_name != "jax":
        return None
    import jax  # noqa: PLC0415 - only on the JAX backend, already imported by Keras

    current = jax.config.jax_compilation_cache_dir
    if current:
        return str(current)
    directory = cache_dir()
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home: run without the cache
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", CACHE_MIN_COMPILE_SECONDS)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    if importlib.util.find_spec("filelock") is not None:  # JAX needs it to bound the cache
        jax.config.update("jax_compilation_cache_max_size", CACHE_MAX_BYTES)
    return str(directory)


def _switched_off(env: str) -> bool:
    return os.environ.get(env, "1").strip().lower() in ("0", "false", "no", "off")


def add_xla_flags(backend_name: str, jaxlib_version: str | None = None) -> list[str]:
    """Appends kerascli's XLA CPU flags to `XLA_FLAGS`, before JAX starts.

    Args:
        backend_name: the Keras backend about to be imported.
        jaxlib_version: the installed jaxlib's version (looked up when None).

    Returns:
        The flags added (none when they are switched off, already there, or
        not known for this jaxlib).
    """
    if backend_name != "jax" or _switched_off(XLA_SWITCH_ENV) or "jax" in sys.modules:
        return []
    if jaxlib_version is None:
        import importlib.metadata  # noqa: PLC0415 - train/evaluate/predict only

        try:
            jaxlib_version = importlib.metadata.version("jaxlib")
        except importlib.metadata.PackageNotFoundError:
            return []
    flags = next((f for prefix, f in XLA_CPU_FLAGS.items() if jaxlib_version.startswith(prefix)), ())
    current = os.environ.get("XLA_FLAGS", "")
    added = [f for f in flags if f.split("=")[0] not in current]
    if added:
        os.environ["XLA_FLAGS"] = " ".join([current, *added]).strip()
    return added


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
    import keras  # noqa: PLC0415 - callers have set the backend already

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
    """Turns kerascli's JAX max-pool rewrite on or off, before the model is built.

    Args:
        requested: the config's `compile.fast_pool`.

    Returns:
        Whether the rewrite is active: False on other backends, and when
        `KERASCLI_FAST_POOL=0` is set.
    """
    from kerascli.engine import jax_pool  # noqa: PLC0415

    if requested:
        return jax_pool.enable()
    jax_pool.disable()
    return False
