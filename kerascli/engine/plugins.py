"""`--plugin MODULE`: custom Keras objects from modules the user names on the command line.

A config can only name Keras' own objects. To use a custom layer (or loss,
metric, optimizer, initializer, ...), write it in a Python module, decorate it
with `@keras.saving.register_keras_serializable(package="mypkg")`, and pass
`--plugin mypkg.layers` to `train`, `validate`, `evaluate` or `predict`.
The module is imported, and every object it registers becomes a name the
config may use, as `Residual` or `mypkg>Residual`, checked like a built-in.
Nothing in a config ever imports a module.
"""

from __future__ import annotations

import importlib
import sys

from kerascli.engine import backend
from kerascli.engine.keras_import import load_keras
from kerascli.errors import UsageError

LOADED: dict[str, list[str]] = {}
"""The `--plugin` modules imported in this process, each with the names it registered (for `run.json`)."""


def load(modules: list[str], backend_cli: str | None = None) -> dict[str, type]:
    """Imports `modules` and makes the Keras objects they register usable.

    Args:
        modules: dotted module names, importable from `sys.path` (the working
            directory is added, as `python -m` would).
        backend_cli: the `--backend` option; Keras is imported with it.

    Returns:
        The newly registered objects by registered name.

    Raises:
        UsageError: a module cannot be imported.
    """
    keras = load_keras(backend.resolve(backend_cli))
    from kerascli.config.catalog import load_catalog

    if "" not in sys.path:
        sys.path.insert(0, "")
    registry = keras.saving.get_custom_objects()
    before = set(registry)
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - a plugin may fail in any way
            raise UsageError(f"--plugin {module}: cannot import it: {type(exc).__name__}: {exc}") from None
        LOADED[module] = sorted(
            name
            for name, obj in registry.items()
            if getattr(obj, "__module__", "").partition(".")[0] == module.partition(".")[0]
        )
    added = {name: obj for name, obj in registry.items() if name not in before}
    catalog = load_catalog()
    for name, obj in added.items():
        kind = _kind(keras, obj)
        if kind is None:
            continue
        short = name.split(">")[-1]
        aliases = () if short == name or catalog.get(kind, short) is not None else (short,)
        catalog.add(kind, name, _entry(keras, kind, obj), aliases)
        if aliases:
            registry.setdefault(short, obj)  # so build.py resolves the bare name too
    return added


# Base classes by catalogue kind, most specific first.
def _kind(keras, obj) -> str | None:
    if not isinstance(obj, type):
        return None
    bases = (
        ("schedules", keras.optimizers.schedules.LearningRateSchedule),
        ("layers", keras.layers.Layer),
        ("optimizers", keras.optimizers.Optimizer),
        ("losses", keras.losses.Loss),
        ("metrics", keras.metrics.Metric),
        ("initializers", keras.initializers.Initializer),
        ("regularizers", keras.regularizers.Regularizer),
        ("constraints", keras.constraints.Constraint),
    )
    for kind, base in bases:
        if issubclass(obj, base):
            return kind
    return None


def _entry(keras, kind: str, cls: type) -> dict:
    from kerascli.introspection.entries import base_kwargs, class_entry

    base = {
        "layers": keras.layers.Layer,
        "optimizers": keras.optimizers.Optimizer,
        "losses": keras.losses.Loss,
        "metrics": keras.metrics.Metric,
    }.get(kind)
    return class_entry(cls, base_kwargs(base) if base else (), {})
