"""The one way kerascli imports Keras: backend first, then start-up levers, then `import keras`.

Every module that needs Keras gets it from `load_keras()`, whether it is
called by a command (with the backend the config and `--backend` chose) or
at the top of a module (with the backend already chosen, or the default):

    from kerascli.engine.keras_import import load_keras

    keras = load_keras()

So `--plugin`, `import`, `summary` and the training commands all start Keras
the same way:

- **The backend is set before the first import** (`kerascli.engine.backend`):
  Keras reads `KERAS_BACKEND` once.
- **An XLA CPU flag** on JAX where it is known to help and to exist
  (`XLA_CPU_FLAGS`): keeping single convolutions out of YNNPACK fusions lifts
  a small CNN by 15–50% on jaxlib 0.10; it is appended to the user's
  `XLA_FLAGS` (never replacing them) before JAX starts, only for the jaxlib
  versions listed (an unknown flag aborts the process), and
  `KERASCLI_XLA_FLAGS=0` turns it off.
- **`import keras` without matplotlib and scikit-learn**: Keras imports
  `matplotlib.pyplot` at start-up, when it is installed, only for its
  image-gallery helpers, and `sklearn` only for its scikit-learn wrappers;
  kerascli calls neither. Together they were ~0.8 s + ~0.9 s of `import keras`
  here. Both are hidden during the import (kerascli's own plots import
  matplotlib later, as usual; `import sklearn` afterwards works too, only
  `keras.wrappers` sees it as missing).
- **JAX's TPU splash-attention kernels and sparse `linalg` deferred**: Keras'
  JAX backend imports them at start-up (~0.1 s, Pallas and its Mosaic
  lowering; 0.11-0.15 s, SciPy's sparse matrices); they are loaded on first
  use instead (`kerascli.engine.lazy_modules`).
- **The garbage collector paused during `import keras`**, and the start-up
  heap frozen after it (`kerascli.engine.collector`): its full collections
  were 0.2-0.25 s of the import.
- **A persistent XLA compilation cache** (JAX): the compiled train, test and
  initializer functions are kept on disk, keyed by JAX on the program, the
  devices and the library versions, so running the same model again skips
  most of its compile time. It lives in `$KERASCLI_CACHE_DIR` (default
  `$XDG_CACHE_HOME/kerascli/xla`, i.e. `~/.cache/kerascli/xla`);
  `KERASCLI_COMPILATION_CACHE=0` turns it off, and a cache directory the
  user already gave JAX (`JAX_COMPILATION_CACHE_DIR`) is left alone.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from kerascli.engine import backend, collector, lazy_modules

CACHE_ENV = "KERASCLI_CACHE_DIR"
CACHE_SWITCH_ENV = "KERASCLI_COMPILATION_CACHE"
# Every compilation is kept (JAX's default skips those under 1 s): a small
# model's many short compiles (metrics, optimizer steps, eager ops) add up to
# most of a repeat's compile time, and reading an entry back costs ~1 ms.
CACHE_MIN_COMPILE_SECONDS = 0.0
CACHE_MAX_BYTES = 2 << 30  # JAX evicts the least recently used entries beyond this (with filelock)
XLA_SWITCH_ENV = "KERASCLI_XLA_FLAGS"
# jaxlib version prefix -> flags checked to exist and to help there.
XLA_CPU_FLAGS = {
    "0.10.": ("--xla_cpu_experimental_ynn_fusion_type=-individual_convolution",),
}
# Optional imports Keras makes at start-up for helpers kerascli never calls.
HIDDEN_FROM_KERAS = ("matplotlib", "sklearn")


def load_keras(backend_name: str | None = None):
    """Imports Keras once, on `backend_name`, with kerascli's start-up levers.

    Args:
        backend_name: the backend to start (already resolved from `--backend`,
            `KERAS_BACKEND` and the config); None takes `KERAS_BACKEND` or
            the default. Once Keras runs, asking for another backend is an
            error (see `backend.activate`).

    Returns:
        The `keras` module.
    """
    if "keras" in sys.modules and backend_name is None:
        return sys.modules["keras"]  # already running, on whatever backend it was started with
    name = backend_name or backend.resolve()
    backend.activate(name)
    if "keras" in sys.modules:
        return sys.modules["keras"]
    add_xla_flags(name)
    keras = _import_without(HIDDEN_FROM_KERAS)
    enable_compilation_cache(keras.backend.backend())
    return keras


def _import_without(hidden_names: tuple[str, ...]):
    """`import keras` while the optional modules `hidden_names` look absent.

    Keras' `visualization` helpers then see matplotlib as missing in this
    process; nothing in kerascli uses them.
    """
    hidden = [name for name in hidden_names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # makes `import matplotlib` raise ImportError
    try:
        # modules Keras' JAX backend imports at start-up and rarely uses; no garbage to look for
        with lazy_modules.deferred(), collector.paused():
            import keras  # noqa: PLC0415 - the one place kerascli imports Keras
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    return keras


def cache_dir() -> Path | None:
    """Where kerascli keeps compiled XLA programs, or None when switched off."""
    if switched_off(CACHE_SWITCH_ENV):
        return None
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kerascli" / "xla"


def enable_compilation_cache(backend_name: str) -> str | None:
    """Turns on JAX's persistent compilation cache in `cache_dir()`.

    Called by `load_keras`, after `import keras`, before anything is compiled.

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


def switched_off(env: str) -> bool:
    """Whether the environment variable `env` turns a lever off (`0`, `false`, `no`, `off`)."""
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
    if backend_name != "jax" or switched_off(XLA_SWITCH_ENV) or "jax" in sys.modules:
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
