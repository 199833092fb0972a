"""Stand-ins for modules `import keras` loads at start-up for a path few runs take.

Three such imports of Keras (3.15.1), each a slice of every kerascli command
that imports Keras on JAX (Keras' own start-up is ~0.5-1.1 s):

- `keras/src/backend/jax/nn.py` imports JAX's TPU splash-attention kernels,
  for `dot_product_attention(flash_attention=True)` on a TPU: Pallas and its
  Mosaic lowering, about 0.1 s.
- `keras/src/backend/jax/core.py` imports `jax.experimental.sparse` for
  sparse tensors, and that package imports its `linalg` module, whose
  `spsolve` falls back to SciPy: `import scipy.sparse`, 0.11-0.15 s. Keras
  never calls `jax.experimental.sparse.linalg`.
- `keras/src/legacy/saving/legacy_h5_format.py` imports `h5py` (~25 ms), for
  the legacy `.h5` model format; Keras' other modules already take h5py
  through their own lazy module, when a `.keras` file's weights are written
  or read.

While Keras is imported, `deferred()` puts stand-ins in `sys.modules`: a
package whose named submodules import the real module on first use
(`DEFERRED_PACKAGES`), or a single module inside a real package
(`DEFERRED_MODULES`). Each stand-in module imports the real one at its first
attribute lookup, so Keras (or a user) reaches the same functions and
classes when it needs them, and nothing is loaded otherwise. The stand-ins
leave `sys.modules` as soon as `import keras` returns: any later import gets
the real modules.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from typing import Iterator

# package -> its submodules that Keras imports with `from package import name`
DEFERRED_PACKAGES = {
    "jax.experimental.pallas.ops.tpu.splash_attention": ("splash_attention_kernel", "splash_attention_mask"),
}
# modules imported with `import name` (or by their own package's __init__)
DEFERRED_MODULES = ("jax.experimental.sparse.linalg", "h5py")


class _Deferred(types.ModuleType):
    """A submodule that imports the real one at its first attribute lookup."""

    def __getattr__(self, attribute: str):
        package = self.__name__.rpartition(".")[0]
        if isinstance(sys.modules.get(package), _StandIn):  # used while Keras is still importing
            del sys.modules[package]
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        return getattr(real, attribute)


class _StandIn(types.ModuleType):
    """The stand-in package: only the deferred submodules, as attributes."""


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within it, the modules of `DEFERRED_PACKAGES` and `DEFERRED_MODULES` not yet imported are stand-ins."""
    placed = [name for name in DEFERRED_MODULES if name not in sys.modules]
    for name in placed:
        sys.modules[name] = _Deferred(name)
    for package, submodules in DEFERRED_PACKAGES.items():
        if package in sys.modules:
            continue
        stand_in = _StandIn(package)
        for name in submodules:
            setattr(stand_in, name, _Deferred(f"{package}.{name}"))
        sys.modules[package] = stand_in
        placed.append(package)
    try:
        yield
    finally:
        for name in placed:
            if isinstance(sys.modules.get(name), (_StandIn, _Deferred)):
                del sys.modules[name]
