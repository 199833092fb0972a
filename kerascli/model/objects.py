"""Keras objects from config entries: layers, optimizers, losses, metrics, schedules, initializers.

Every name is resolved through Keras itself (`keras.layers`, `keras.optimizers`,
`keras.losses`, `keras.metrics`, `keras.callbacks` and Keras' registry of custom
objects); kerascli never reimplements one. Keras errors raised while building a
node are re-raised as config errors naming the node and its line.
"""

from __future__ import annotations

import re
from typing import Any

from kerascli.config.checks.safety import serialized_keys, serialized_message
from kerascli.config.document import Document, Key
from kerascli.config.spec import KerasObject
from kerascli.config.tables import EXCLUDED, IDENTIFIER_KINDS
from kerascli.engine.keras_import import load_keras
from kerascli.errors import ConfigError

keras = load_keras()

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def clean(exc: BaseException) -> str:
    """A Keras exception message as one readable line (no ANSI codes)."""
    text = ANSI.sub("", str(exc)).strip() or type(exc).__name__
    # Keras wraps errors raised in call() with a header and a dump of the
    # arguments (KerasTensor reprs); the message the user needs is between.
    text = re.split(r"\n\s*Arguments received by ", text)[0]
    text = re.sub(r"^Exception encountered when calling [\w.]+\(\)\.\s*", "", text.strip())
    # Sets of allowed strings print in hash order; sort them so a message is stable.
    text = re.sub(
        r"\{'[^{}']*'(?:, '[^{}']*')+\}", lambda m: "{" + ", ".join(sorted(m.group(0)[1:-1].split(", "))) + "}", text
    )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines)[:600] or type(exc).__name__


def layer_class(type_name: str):
    """The Keras layer class named `type_name` (built-in or registered)."""
    if type_name in EXCLUDED["layers"]:  # not safe or not possible to build from a config
        return None
    cls = getattr(keras.layers, type_name, None)
    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        return cls
    cls = keras.saving.get_registered_object(type_name)
    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        return cls
    return None


def make_layer(type_name: str, kwargs: dict, name: str | None, doc: Document, key: Key) -> keras.layers.Layer:
    """Instantiates one layer, resolving nested Keras objects in its kwargs."""
    cls = layer_class(type_name)
    if cls is None:
        raise ConfigError([doc.problem(key + ("type",), f"unknown layer '{type_name}'")])
    _refuse_serialized(kwargs, doc, key)
    resolved = {}
    for arg, value in kwargs.items():
        resolved[arg] = _nested(arg, value, doc, key + (arg,))
    if name is not None:
        resolved["name"] = name
    try:
        return cls(**resolved)
    except Exception as exc:  # noqa: BLE001 - constructors raise ValueError/TypeError
        raise ConfigError(
            [doc.problem(key, f"{type_name}({_show_kwargs(kwargs)}) was rejected by Keras: {clean(exc)}")]
        ) from None


def _refuse_serialized(kwargs: dict, doc: Document, key: Key) -> None:
    """Keras deserializes dicts with `class_name`/`module`; none may reach a constructor."""
    found = serialized_keys(kwargs, key)
    if found:
        raise ConfigError([doc.problem(path, serialized_message(path[-1])) for path in found])


def _show_kwargs(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if not isinstance(v, dict))


def _nested(arg: str, value: Any, doc: Document, key: Key) -> Any:
    """Turns `{type: X, ...}` values into Keras objects (layers, initializers...)."""
    if arg in ("layer", "backward_layer") and isinstance(value, dict) and "type" in value:
        inner = {k: v for k, v in value.items() if k not in ("type", "name")}
        return make_layer(value["type"], inner, value.get("name"), doc, key)
    for suffix, module in IDENTIFIER_KINDS:
        if arg == suffix or arg.endswith("_" + suffix):
            if isinstance(value, dict) and "type" in value:
                return resolve_object(module, KerasObject.model_validate(value), doc, key)
    return value


def resolve_object(module: str, obj: KerasObject, doc: Document, key: Key) -> Any:
    """Builds a Keras object of `keras.<module>` from a `KerasObject` spec.

    Strings are returned as they are (Keras resolves them itself in
    `compile()` and keeps the spelling as the history key); mappings build
    the class with its kwargs.
    """
    if obj.is_string:
        if module in ("losses", "metrics"):
            return obj.type
        getter = getattr(_keras_module(module), "get", None)
        try:
            if getter is not None:
                return getter(obj.type)
        except Exception:  # noqa: BLE001 - `get` raises ValueError for unknown names
            pass
    cls = getattr(_keras_module(module), obj.type, None)
    if not isinstance(cls, type):
        cls = keras.saving.get_registered_object(obj.type)
    if not isinstance(cls, type):
        raise ConfigError([doc.problem(key, f"unknown {module[:-1]} '{obj.type}'")])
    kwargs = dict(obj.kwargs)
    _refuse_serialized(kwargs, doc, key)
    if module == "optimizers" and isinstance(kwargs.get("learning_rate"), dict):
        schedule = KerasObject.model_validate(kwargs["learning_rate"])
        kwargs["learning_rate"] = resolve_object("optimizers.schedules", schedule, doc, key + ("learning_rate",))
    try:
        return cls(**kwargs)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError([doc.problem(key, f"{obj.type} was rejected by Keras: {clean(exc)}")]) from None


def _keras_module(path: str):
    module = keras
    for part in path.split("."):
        module = getattr(module, part)
    return module
