"""Swapping one function of Keras' JAX backend (`keras.src.backend.jax.nn`) for a faster lowering, and back.

kerascli's JAX lowerings (`kerascli.engine.jax_pool`, `kerascli.engine.jax_conv`)
change how an op is computed, never which layers, variables or saved files a
model has: `enable()` rebinds every reference to Keras' function object
(the attribute on `keras.src.backend.jax.nn`, which `keras.ops` and the layers
look up at call time, plus any other `keras.*` module holding the same
object) to a wrapper that takes the fast path where it is exact and calls the
original otherwise. `disable()` puts the original objects back. Both are
idempotent and thread-safe.

`enable()` does nothing and returns False when the Keras backend is not JAX,
when the function cannot be found (a Keras whose internals moved), or when the
lowering's environment switch is `"0"` (then it also removes an earlier
patch), so its return value always says whether the lowering is active.

This module imports neither Keras nor JAX at import time.
"""

from __future__ import annotations

import operator
import os
import sys
import threading
from typing import Callable

_lock = threading.RLock()


def spatial_tuple(value, n: int):
    """An int or sequence (a pool size, strides) as a tuple of ``n`` Python ints, or None when it is not one."""
    try:
        if isinstance(value, (list, tuple)):
            out = tuple(operator.index(v) for v in value)
        else:
            out = (operator.index(value),) * n
    except TypeError:
        return None
    return out if len(out) == n else None


def _find_references(original) -> list[tuple[object, str]]:
    """Every (module, name) in keras.* bound to the original function."""
    refs = []
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == "keras" or mod_name.startswith("keras.")):
            continue
        try:
            items = list(vars(mod).items())
        except TypeError:
            continue
        for name, obj in items:
            if obj is original:
                refs.append((mod, name))
    return refs


class BackendPatch:
    """One function of `keras.src.backend.jax.nn`, replaced by a wrapper while enabled.

    Args:
        name: the function's name in `keras.src.backend.jax.nn` (`"max_pool"`).
        env_var: the environment variable that keeps the patch off when `"0"`.
        make_patched: builds the wrapper from Keras' original function.
    """

    def __init__(self, name: str, env_var: str, make_patched: Callable):
        self.name = name
        self.env_var = env_var
        self.make_patched = make_patched
        self.marker = f"_kerascli_fast_{name}"
        # (module, attribute name, original object) for every patched reference.
        self.patched: list[tuple[object, str, object]] = []

    def is_enabled(self) -> bool:
        return bool(self.patched)

    def env_disabled(self) -> bool:
        return os.environ.get(self.env_var, "").strip() == "0"

    def enable(self) -> bool:
        """Patches Keras' function. Returns True when the lowering is active."""
        with _lock:
            if self.env_disabled():
                self.disable()
                return False
            if self.patched:
                return True
            original = self._original()
            if original is None:
                return False
            if getattr(original, self.marker, False):
                return True  # patched by another copy of this module
            from keras.src.backend.jax import nn as jax_nn  # noqa: PLC0415 - Keras is loaded by _original

            refs = _find_references(original)
            if not any(m is jax_nn and n == self.name for m, n in refs):
                refs.append((jax_nn, self.name))
            patched = self.make_patched(original)
            setattr(patched, self.marker, True)
            patched._kerascli_original = original
            for mod, attr in refs:
                setattr(mod, attr, patched)
                self.patched.append((mod, attr, original))
            return True

    def disable(self) -> bool:
        """Restores the original function objects. Returns True if it was enabled."""
        with _lock:
            if not self.patched:
                return False
            for mod, attr, original in reversed(self.patched):
                setattr(mod, attr, original)
            self.patched.clear()
            return True

    def _original(self):
        """Keras' JAX function, or None when the backend is not JAX or it cannot be found."""
        from kerascli.engine.keras_import import load_keras  # noqa: PLC0415

        load_keras()  # sets up keras.src.backend
        from keras.src import backend  # noqa: PLC0415

        if backend.backend() != "jax":
            return None
        try:
            from keras.src.backend.jax import nn as jax_nn  # noqa: PLC0415
        except ImportError:
            return None
        original = getattr(jax_nn, self.name, None)
        return original if callable(original) else None
