"""Choosing the Keras backend before Keras is first imported.

Precedence, highest first: `--backend`, the `KERAS_BACKEND` environment
variable, the config's `backend:`, then JAX. Keras reads `KERAS_BACKEND` once,
at its first import, so `activate` must run before anything imports Keras.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from kerascli.errors import UsageError

BACKENDS = ("jax", "tensorflow", "torch")
DEFAULT = "jax"
INSTALL = {
    "jax": "pip install 'kerascli' (JAX is a core dependency) or pip install 'jax[cpu]'",
    "tensorflow": "pip install 'kerascli[tensorflow]'",
    "torch": "pip install 'kerascli[torch]' (or: pip install torch==2.13.0)",
}


def resolve(cli: str | None = None, config: str | None = None) -> str:
    """The backend to use, by the precedence in the module docstring."""
    env = os.environ.get("KERAS_BACKEND") or None
    name = cli or env or config or DEFAULT
    if name not in BACKENDS:
        source = "--backend" if cli else "KERAS_BACKEND" if env else "backend"
        raise UsageError(f"{source}: unknown backend '{name}', expected one of: {', '.join(BACKENDS)}")
    return name


def activate(name: str) -> None:
    """Makes `name` the backend Keras will use.

    Raises:
        UsageError: the backend is not installed (with the pip command), or
            Keras was already imported with another backend.
    """
    if importlib.util.find_spec(name) is None:
        raise UsageError(f"backend '{name}' is not installed; install it with: {INSTALL[name]}")
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != name:
            raise UsageError(
                f"Keras is already running with backend '{current}' in this process; cannot switch to '{name}'"
            )
        return
    os.environ["KERAS_BACKEND"] = name
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
