"""Recognising a nested `keras.applications` model, so `import` writes it as one node.

A model built with `keras.applications.MobileNetV2(...)` and used as a layer
is saved as a nested functional model of 150+ layers. `recognise` guesses
the application and its arguments from what the saved config shows (its
default name, `mobilenetv2_0.35_32`; its input shape; whether it has the
`predictions` top or a global pooling), then proves the guess: it builds that
application (random weights) and compares the two architectures layer by
layer. Only an exact match becomes `{type: MobileNetV2, alpha: 0.35, ...}`;
anything else stays a block, because a wrong answer is worse than a long one.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

from kerascli.config.catalog import Catalog
from kerascli.engine.keras_import import load_keras

# Applications whose default name encodes arguments: name pattern → argument names.
_NAMED_BY_ARGUMENTS = {
    "MobileNet": re.compile(r"mobilenet_(?P<alpha>\d+\.\d\d)_(?P<rows>\d+)"),
    "MobileNetV2": re.compile(r"mobilenetv2_(?P<alpha>\d+\.\d\d)_(?P<rows>\d+)"),
}
_NOT_ARCHITECTURE = ("trainable", "shared_object_id")
_POOLING = {"GlobalAveragePooling2D": "avg", "GlobalMaxPooling2D": "max"}


def recognise(layer: dict, catalog: Catalog) -> dict | None:
    """The application node a serialized nested model is, or None.

    Args:
        layer: the nested model's serialized layer (`{"class_name", "config"}`).
        catalog: the catalogue (the `applications` kind).

    Returns:
        `{"type": ..., <arguments that differ from the defaults>}`, or None.
    """
    config = layer.get("config") or {}
    layers = config.get("layers")
    if not isinstance(layers, list) or not layers:
        return None
    for type_name in _candidates(config.get("name", ""), catalog):
        guess = _arguments(type_name, config, layers)
        if guess is not None and _same_architecture(type_name, guess, config):
            entry = catalog.get("applications", type_name)
            node = {"type": type_name}
            for key, value in guess.items():
                arg = entry.arguments.get(key)
                if arg is not None and value != arg.default:
                    node[key] = value
            node["weights"] = None  # the architecture only, as for every imported layer
            return node
    return None


def _candidates(name: str, catalog: Catalog) -> list[str]:
    keras = load_keras()
    found = []
    for type_name in catalog.canonical_names("applications"):
        pattern = _NAMED_BY_ARGUMENTS.get(type_name)
        if pattern is not None:
            if pattern.fullmatch(name):
                found.append(type_name)
            continue
        default = inspect.signature(getattr(keras.applications, type_name)).parameters.get("name")
        if default is not None and default.default == name:
            found.append(type_name)
    return found


def _arguments(type_name: str, config: dict, layers: list[dict]) -> dict | None:
    """The arguments the saved architecture shows (input shape, top, pooling, alpha)."""
    first = layers[0]
    if first.get("class_name") != "InputLayer":
        return None
    args: dict[str, Any] = {"input_shape": list(first["config"]["batch_shape"][1:])}
    by_name = {item["config"].get("name"): item for item in layers}
    top = by_name.get("predictions")
    args["include_top"] = top is not None
    if top is not None:
        args["classes"] = top["config"].get("units")
        args["classifier_activation"] = top["config"].get("activation")
    else:
        args["pooling"] = _POOLING.get(layers[-1].get("class_name"))
    pattern = _NAMED_BY_ARGUMENTS.get(type_name)
    if pattern is not None:
        args["alpha"] = float(pattern.fullmatch(config["name"]).group("alpha"))
    return args


def _same_architecture(type_name: str, guess: dict, config: dict) -> bool:
    """Whether `keras.applications.<type_name>(**guess)` has exactly the saved layers."""
    keras = load_keras()
    kwargs = dict(guess, input_shape=tuple(guess["input_shape"]), weights=None)
    try:
        built = getattr(keras.applications, type_name)(**kwargs, name=config["name"])
    except Exception:  # noqa: BLE001 - a wrong guess Keras rejects is simply not a match
        return False
    return _comparable(built.get_config()) == _comparable(config)


def _comparable(config: dict) -> str:
    """The architecture part of a functional config: layers and connections.

    Without what saving adds or a user may change without changing the
    architecture: `trainable` flags and `shared_object_id` (saving's own
    bookkeeping of objects used twice); input layers, which Keras names by a
    per-process counter (`input_layer_3`), are renamed by position.
    """
    inputs = [
        layer["config"]["name"] for layer in config.get("layers") or [] if layer.get("class_name") == "InputLayer"
    ]
    renamed = {name: f"<input {i}>" for i, name in enumerate(inputs)}

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _NOT_ARCHITECTURE}
        if isinstance(value, (list, tuple)):  # a live config holds tuples (shapes, Keras histories)
            return [strip(v) for v in value]
        return renamed.get(value, value) if isinstance(value, str) else value

    return json.dumps({"layers": strip(config.get("layers")), "outputs": config.get("output_layers")}, sort_keys=True)
