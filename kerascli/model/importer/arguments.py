"""A serialized layer's `get_config()` → its kerascli arguments, Keras' defaults left out.

Nested values come back in config form too: a wrapped layer as a node
mapping, an initializer/regularizer/constraint as its name or
`{type: Class, ...}`. An argument a config cannot write (a Python object, an
argument this Keras' catalogue does not know) is a `KerasCliError`.
"""

from __future__ import annotations

import inspect
from typing import Any

from kerascli.config.catalog import Catalog
from kerascli.config.tables import IDENTIFIER_KINDS
from kerascli.engine.keras_import import load_keras
from kerascli.errors import KerasCliError

NESTED_MODULES = {f"keras.{kind}": kind for _, kind in IDENTIFIER_KINDS}


def layer_arguments(layer: dict, catalog: Catalog) -> dict:
    """`{type, <arguments that differ from the defaults>}` of a serialized layer."""
    class_name = layer["class_name"]
    config = layer["config"]
    entry = catalog.get("layers", class_name)
    out: dict[str, Any] = {"type": class_name}
    for key, value in config.items():
        if key == "name":
            continue
        if key == "trainable":
            if value is False:
                out[key] = False
            continue
        if key == "dtype":
            policy = value.get("config", {}).get("name") if isinstance(value, dict) else value
            if policy not in (None, "float32"):
                out[key] = policy
            continue
        arg = entry.arguments.get(key) if entry else None
        if entry is not None and arg is None and key not in entry.accepts_kwargs:
            known, default = _inherited_default(class_name, key)
            if value is None or (known and value == default):
                continue
            raise KerasCliError(
                f"layer '{config.get('name')}' ({class_name}) has argument {key}={value!r}, "
                "which the catalogue of this Keras does not know"
            )
        converted = _value(key, value, catalog)
        if not _is_default(key, converted, arg, config, out, catalog):
            out[key] = _collapsed(converted, arg)
    return out


def _is_default(key: str, converted: Any, arg, config: dict, out: dict, catalog: Catalog) -> bool:
    """Whether a converted argument is what Keras would use anyway, so the config can leave it out."""
    if arg is not None and not arg.required and _same(converted, arg.default, key, catalog):
        return True
    if key == "backward_layer" and isinstance(out.get("layer"), dict):
        # Bidirectional's default: the forward layer, reversed.
        return converted == {**out["layer"], "go_backwards": not out["layer"].get("go_backwards", False)}
    if key == "strides" and arg is not None and arg.default is None and "pool_size" in config:
        pool = config["pool_size"]
        # Pooling: strides default to pool_size.
        return _same(converted, list(pool) if isinstance(pool, (list, tuple)) else pool, key, catalog)
    return False


def _value(key: str, value: Any, catalog: Catalog) -> Any:
    """A serialized argument value in config form."""
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list):
        return [_value(key, v, catalog) for v in value]
    if not isinstance(value, dict):
        return value
    module = value.get("module", "")
    if module == "keras.layers" and "class_name" in value:
        return layer_arguments(value, catalog)
    kind = NESTED_MODULES.get(module)
    if kind is not None:
        return _keras_object(kind, value, catalog)
    if "class_name" in value:
        raise KerasCliError(f"argument '{key}' holds a {value['class_name']} object, which a config cannot write")
    return {k: _value(k, v, catalog) for k, v in value.items()}


def _keras_object(kind: str, value: dict, catalog: Catalog) -> Any:
    """An initializer/regularizer/constraint as `name` or `{type: Class, ...}`."""
    class_name = value["class_name"]
    entry = catalog.get(kind, class_name)
    kwargs = {}
    for key, item in (value.get("config") or {}).items():
        arg = entry.arguments.get(key) if entry else None
        if item is None and (arg is None or arg.default is None):
            continue
        if arg is not None and _same(item, arg.default, key, catalog):
            continue
        kwargs[key] = _value(key, item, catalog)
    if not kwargs:
        for alias, canonical in sorted(catalog.aliases(kind).items()):
            if canonical == class_name and alias == alias.lower():
                return alias
    return {"type": class_name, **kwargs}


def _inherited_default(class_name: str, key: str) -> tuple[bool, Any]:
    """`(True, default)` when a base class of layer `class_name` takes `key`.

    Some arguments reach a base class through `**kwargs` (e.g. an RNN's
    `zero_output_for_mask`) and so are not in the catalogue entry.
    """
    keras = load_keras()

    cls = getattr(keras.layers, class_name, None)
    for base in getattr(cls, "__mro__", ()):
        init = base.__dict__.get("__init__")
        if init is None:
            continue
        param = inspect.signature(init).parameters.get(key)
        if param is not None and param.default is not inspect.Parameter.empty:
            return True, param.default
    return False, None


def _same(value: Any, default: Any, key: str, catalog: Catalog) -> bool:
    """Whether a config value means the same as the catalogue default."""
    if isinstance(value, tuple):
        value = list(value)
    if value == default:
        return True
    if (key == "activation" or key.endswith("_activation")) and value == "linear" and default is None:
        return True
    if key == "data_format" and default is None and value == "channels_last":
        return True  # None means keras.config.image_data_format(), channels_last unless configured
    if (
        isinstance(default, int)
        and not isinstance(default, bool)
        and isinstance(value, list)
        and value
        and all(v == default for v in value)
    ):
        return True
    for suffix, kind in IDENTIFIER_KINDS:
        if key == suffix or key.endswith("_" + suffix):
            if isinstance(value, str) and isinstance(default, str):
                a, b = catalog.get(kind, value), catalog.get(kind, default)
                return a is not None and b is not None and a.name == b.name
    return False


def _collapsed(value: Any, arg) -> Any:
    """`[3, 3]` as `3` for arguments that take an int or a list (`kernel_size`, `strides`)."""
    if (
        isinstance(value, list)
        and value
        and arg is not None
        and arg.type == "integer|array"
        and isinstance(value[0], int)
        and all(v == value[0] for v in value)
    ):
        return value[0]
    return value
