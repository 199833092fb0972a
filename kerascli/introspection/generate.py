"""Generating the catalogue (`kerascli/config/catalog.json`) from the installed Keras.

Run by `tools/generate_catalog.py`; imports Keras. The reader, `kerascli.config.catalog`,
never imports this module."""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

from kerascli.config.catalog import FORMAT_VERSION, KINDS
from kerascli.config.tables import EXCLUDED
from kerascli.introspection.applications import generate_applications
from kerascli.introspection.docstrings import parse_args_section
from kerascli.introspection.entries import base_kwargs, class_entry, function_entry

# Strings that Model.compile resolves itself from the target/output shapes
# before asking the kind's `get` (keras/src/trainers/compile_utils.py:
# get_metric and get_loss compare `str(identifier).lower()` against them).
# The first name of each tuple is the canonical entry; generation checks the
# names still appear in that source.
_SPECIAL_STRINGS = {
    "metrics": (
        ("accuracy", "acc"),
        "get_metric",
        "Accuracy picked by compile() from the shapes: binary, sparse categorical or categorical.",
    ),
    "losses": (
        ("crossentropy", "ce"),
        "get_loss",
        "Crossentropy picked by compile() from the shapes: binary, sparse categorical or categorical.",
    ),
}


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _generate_kind(kind, module, base, get, registry, special, fallback_docs) -> dict:
    """Builds the catalogue dict of one kind.

    Args:
        kind: One of `KINDS`.
        module: The public Keras module (`keras.layers`, ...).
        base: Base class whose exported subclasses are entries, or None.
        get: The kind's `keras.<kind>.get`, or None.
        registry: Extra candidate strings for `get` (keys of the module's
            internal name table), or ().
        special: A `_SPECIAL_STRINGS` value or None.
        fallback_docs: Argument descriptions used where docstrings lack one.

    Returns:
        `{"entries": {...}, "aliases": {...}}`.
    """
    exported = {n: getattr(module, n) for n in dir(module) if not n.startswith("_")}
    entries: dict[str, dict] = {}
    aliases: dict[str, str] = {}
    class_canonical: dict[int, str] = {}
    if base is not None:
        inherited = base_kwargs(base)
        for cls, names in _classes(exported, base, EXCLUDED[kind]):
            canonical = cls.__name__ if cls.__name__ in names else sorted(names)[0]
            class_canonical[id(cls)] = canonical
            entries[canonical] = class_entry(cls, inherited, fallback_docs)
            aliases.update({name: canonical for name in names if name != canonical})
    if get is not None:
        _identifiers(kind, get, set(exported) | set(registry), class_canonical, entries, aliases)
    if special is not None:
        _special_strings(special, entries, aliases)
    return {
        "entries": {name: entries[name] for name in sorted(entries)},
        "aliases": {name: aliases[name] for name in sorted(aliases)},
    }


def _classes(exported: dict, base: type, excluded_names: dict) -> list[tuple[type, list[str]]]:
    """The exported subclasses of `base`, each with all the names it is exported under."""
    excluded_classes = {id(exported[n]) for n in excluded_names if inspect.isclass(exported.get(n))}
    by_class: dict[int, tuple[type, list[str]]] = {}
    for name, obj in exported.items():
        if not (inspect.isclass(obj) and issubclass(obj, base)):
            continue
        if name in excluded_names or id(obj) in excluded_classes:
            continue
        by_class.setdefault(id(obj), (obj, []))[1].append(name)
    return list(by_class.values())


def _identifiers(kind, get, candidates: set, class_canonical: dict, entries: dict, aliases: dict) -> None:
    """Adds the string identifiers the kind's `get` accepts: aliases of classes, entries of functions."""
    import warnings

    for name in list(candidates):
        candidates.add(name.lower())
        candidates.add(_snake_case(name))
    resolved_functions: dict[int, tuple[Any, list[str]]] = {}
    for name in sorted(candidates):
        if name in ("get", "serialize", "deserialize") or name.startswith("_"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = get(name)
        except Exception:
            continue
        if obj is None:
            continue
        if id(type(obj)) in class_canonical:
            target = class_canonical[id(type(obj))]
            if name != target:
                aliases[name] = target
        elif inspect.isfunction(obj):
            resolved_functions.setdefault(id(obj), (obj, []))[1].append(name)
    for func, names in resolved_functions.values():
        canonical = func.__name__ if func.__name__ in names else sorted(names)[0]
        if canonical in entries:
            raise RuntimeError(f"{kind}: {canonical!r} is both a class and a function")
        entries[canonical] = function_entry(func)
        aliases.update({name: canonical for name in names if name != canonical})


def _special_strings(special: tuple, entries: dict, aliases: dict) -> None:
    """Adds the strings `Model.compile` resolves itself, checking Keras still special-cases them."""
    from keras.src.trainers import compile_utils

    names, source_func, description = special
    source = inspect.getsource(getattr(compile_utils, source_func))
    for name in names:
        if f'"{name}"' not in source:
            raise RuntimeError(f"compile_utils.{source_func} no longer special-cases {name!r}: update _SPECIAL_STRINGS")
    canonical = names[0]
    entries.pop(canonical, None)
    entries[canonical] = {
        "description": description,
        "form": "special",
        "arguments": {},
        "accepts_kwargs": [],
        "requires": [],
    }
    for name in names:
        aliases.pop(name, None)
    for name in names[1:]:
        aliases[name] = canonical


def _kind_specs(keras) -> dict[str, tuple]:
    """Per kind: its public module, its base class, its `get`, and extra names for `get` to try."""
    import importlib

    def registry(module_name):
        # Keys of a Keras module's internal name table, as extra candidate
        # strings for its `get`; every one is still checked through `get`.
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return ()
        return tuple(getattr(module, "ALL_OBJECTS_DICT", {}))

    schedules = keras.optimizers.schedules
    return {
        "layers": (keras.layers, keras.layers.Layer, None, ()),
        "optimizers": (
            keras.optimizers,
            keras.optimizers.Optimizer,
            keras.optimizers.get,
            registry("keras.src.optimizers"),
        ),
        "schedules": (schedules, schedules.LearningRateSchedule, None, ()),
        "losses": (keras.losses, keras.losses.Loss, keras.losses.get, registry("keras.src.losses")),
        "metrics": (keras.metrics, keras.metrics.Metric, keras.metrics.get, registry("keras.src.metrics")),
        "callbacks": (keras.callbacks, keras.callbacks.Callback, None, ()),
        "activations": (keras.activations, None, keras.activations.get, registry("keras.src.activations")),
        "initializers": (
            keras.initializers,
            keras.initializers.Initializer,
            keras.initializers.get,
            registry("keras.src.initializers"),
        ),
        "regularizers": (
            keras.regularizers,
            keras.regularizers.Regularizer,
            keras.regularizers.get,
            registry("keras.src.regularizers"),
        ),
        "constraints": (
            keras.constraints,
            keras.constraints.Constraint,
            keras.constraints.get,
            registry("keras.src.constraints"),
        ),
    }


def generate_catalog(keras) -> dict:
    """Builds the catalogue from the installed Keras.

    Args:
        keras: the `keras` module, as `kerascli.engine.keras_import.load_keras`
            returns it (`tools/generate_catalog.py` starts it on JAX).

    Returns:
        The JSON-able dict that `catalog.json` holds:
        `{"format_version", "keras_version", "kinds": {kind: {"entries",
        "aliases"}}}`.
    """
    # Optimizer docstrings splice in a shared text of the base arguments;
    # a few (Muon, Adamax) fail to, so use it where they lack one.
    try:
        from keras.src.optimizers import base_optimizer

        optimizer_docs = parse_args_section("Args:\n        " + base_optimizer.base_optimizer_keyword_args)
    except (ImportError, AttributeError):
        optimizer_docs = {}
    specs = _kind_specs(keras)
    kinds = {}
    for kind in KINDS:
        if kind == "applications":
            kinds[kind] = generate_applications(keras)
            continue
        module, base, get, names = specs[kind]
        docs = optimizer_docs if kind == "optimizers" else {}
        kinds[kind] = _generate_kind(kind, module, base, get, names, _SPECIAL_STRINGS.get(kind), docs)
    return {"format_version": FORMAT_VERSION, "keras_version": keras.__version__, "kinds": kinds}


def dumps_catalog(data: dict) -> str:
    """Serializes a catalogue dict the way `catalog.json` is written.

    Args:
        data: A dict from `generate_catalog()`.

    Returns:
        The JSON text, deterministic for equal input, ending in a newline.
    """
    return json.dumps(data, indent=1, ensure_ascii=True, allow_nan=False) + "\n"
