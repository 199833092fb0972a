"""Stand-ins for modules `import keras` loads at start-up for a path few runs take.

Keras' JAX backend (`keras/src/backend/jax/nn.py`, 3.15.1) imports JAX's TPU
splash-attention kernels when it starts, for
`dot_product_attention(flash_attention=True)` on a TPU. Importing them loads
Pallas and its Mosaic lowering: about 0.1 s of every kerascli command that
imports Keras on JAX (Keras' own start-up is ~1.2 s). While Keras is
imported, `deferred()` puts a stand-in package in `sys.modules` whose two
submodules import the real module on first use, so Keras reaches the same
functions and classes when it needs them, and nothing is loaded otherwise.
The stand-in package is removed as soon as `import keras` returns: any later
import gets the real modules.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from typing import Iterator

# package -> its submodules that Keras imports with `from package import name`
DEFERRED = {
    "jax.experimental.pallas.ops.tpu.splash_attention": ("splash_attention_kernel", "splash_attention_mask"),
}


class _Deferred(types.ModuleType):
    """A submodule that imports the real one at its first attribute lookup."""

    def __getattr__(self, attribute: str):
        package = self.__name__.rpartition(".")[0]
        if isinstance(sys.modules.get(package), _StandIn):  # used while Keras is still importing
            del sys.modules[package]
        real = importlib.import_module(self.__name__)
        return getattr(real, attribute)


class _StandIn(types.ModuleType):
    """The stand-in package: only the deferred submodules, as attributes."""


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within it, the packages of `DEFERRED` not yet imported are stand-ins (see the module)."""
    placed = []
    for package, submodules in DEFERRED.items():
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
        for package in placed:
            if isinstance(sys.modules.get(package), _StandIn):
                del sys.modules[package]
